# Generates the small .npy/.npz files test/parity/npy.test.ts reads (numpy 1.24, /usr/bin/python3).
# Run: cd test/parity/data && /usr/bin/python3 make_npy.py
import numpy as np
a = np.arange(12, dtype=np.float32).reshape(3, 4) / 4 - 1
np.save('f4.npy', a)
np.save('f8.npy', a.astype(np.float64) * np.pi)
np.save('f2.npy', np.array([1.0, -2.5, 65504, 0.0001], dtype=np.float16))
np.save('i8.npy', np.array([[-(2**62), 1], [2, 2**40]], dtype=np.int64))
np.save('i4.npy', np.array([-7, 0, 7], dtype=np.int32))
np.save('u1.npy', np.array([0, 255, 7], dtype=np.uint8))
np.save('b1.npy', np.array([True, False, True]))
np.save('be_f4.npy', np.array([1.5, -2.0], dtype='>f4'))
np.save('scalar.npy', np.float32(3.25))
np.save('empty.npy', np.zeros((0, 5), dtype=np.float32))
np.save('fortran.npy', np.asfortranarray(a))
np.save('object.npy', np.array([1, 'x'], dtype=object), allow_pickle=True)
np.save('struct.npy', np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')]))
np.lib.format.write_array(open('v2.npy', 'wb'), a, version=(2, 0))
np.lib.format.write_array(open('v3.npy', 'wb'), a, version=(3, 0))
inputs = (np.arange(2 * 3 * 4 * 4, dtype=np.float32).reshape(2, 3, 4, 4) % 7) / 7
emb = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32)
np.savez('ref.npz', inputs=inputs, embeddings=emb, pairs=np.array([[0, 1]], dtype=np.int64), issame=np.array([True]))
np.savez_compressed('ref_compressed.npz', inputs=inputs, embeddings=emb)
