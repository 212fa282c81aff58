/**
 * The logger's progress lines (src/log.ts), written to a capturing stream:
 * each outcome has its own mark, colour and word (the word survives NO_COLOR),
 * progress counts the rows asked for with the flips apart, and the elapsed
 * time shows on a bar that sits still (terminal) and in a plain log (CI).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger, HEARTBEAT_MS, MARKS, type Outcome } from '../../src/log.js';

function capture() {
  const chunks: string[] = [];
  const stream = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } });
  return { stream, text: () => chunks.join('') };
}

afterEach(() => vi.useRealTimers());

describe('progress outcomes', () => {
  const outcomes: Outcome[] = ['pass', 'fail', 'error', 'skip'];

  it('gives pass, fail, error and skip different marks and colours on a terminal', () => {
    const seen = outcomes.map((o) => {
      const c = capture();
      createLogger({ tty: true, color: true }, c.stream).progress('parity x', 4).done(`${MARKS[o].word}: detail`, o);
      const last = c.text().split('\r\x1b[2K').at(-1)!;
      expect(last.startsWith(`\x1b[${MARKS[o].color}m${MARKS[o].mark}\x1b[0m parity x: ${MARKS[o].word}: detail`), JSON.stringify(last)).toBe(true);
      return `${MARKS[o].mark}|${MARKS[o].color}`;
    });
    expect(new Set(seen).size).toBe(4);
    // An error is never shown as a pass (the old green check).
    expect(MARKS.error.mark).not.toBe(MARKS.pass.mark);
  });

  it('keeps a distinct word per outcome without colour (NO_COLOR) and in a plain log', () => {
    for (const tty of [true, false]) {
      const lines = outcomes.map((o) => {
        const c = capture();
        createLogger({ tty, color: false }, c.stream).progress('parity x', 4).done('detail', o);
        const t = c.text();
        expect(t).not.toContain('\x1b[3');
        return t.split(/\r\x1b\[2K|\n/).filter(Boolean).at(-1)!;
      });
      expect(lines).toEqual(outcomes.map((o) => expect.stringMatching(new RegExp(`^\\${MARKS[o].mark} parity x: ${MARKS[o].word}: detail \\(\\d+\\.\\d+ s\\)$`))));
    }
  });
});

describe('progress counts and time', () => {
  it('counts the rows asked for, with the flips apart, and rows per second', () => {
    const c = capture();
    const bar = createLogger({ tty: true, color: false }, c.stream).progress('parity onnx fp32 r', 8, { flips: true });
    bar.tick(8);
    bar.tick(3, 'flip');
    expect(c.text().split('\r\x1b[2K').at(-1)).toMatch(/ rows 8\/8, flips 3\/8, \d+ s/);
    bar.done();
    expect(c.text()).not.toMatch(/\/16/);
  });

  it('redraws a still bar every second with the elapsed time (terminal)', () => {
    vi.useFakeTimers();
    const c = capture();
    const bar = createLogger({ tty: true, color: false }, c.stream).progress('parity slow', 32);
    vi.advanceTimersByTime(5000);
    const frames = c.text().split('\r\x1b[2K').filter(Boolean);
    expect(frames.length).toBeGreaterThanOrEqual(5);
    expect(frames.at(-1)).toMatch(/rows 0\/32, [45] s$/);
    bar.done('pass: ok');
    const after = c.text().length;
    vi.advanceTimersByTime(3000);
    expect(c.text().length).toBe(after); // stopped when done
  });

  it('prints a line every 30 s in a plain log while a run sits still', () => {
    vi.useFakeTimers();
    const c = capture();
    const bar = createLogger({ tty: false }, c.stream).progress('parity slow', 32);
    vi.advanceTimersByTime(HEARTBEAT_MS * 2 + 1000);
    const lines = c.text().trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^parity slow \(rows 0\/32, (60|61) s\) \.\.\.$/);
    bar.done('pass: ok');
  });

  it('says nothing with --quiet', () => {
    vi.useFakeTimers();
    const c = capture();
    const bar = createLogger({ quiet: true }, c.stream).progress('parity q', 4);
    vi.advanceTimersByTime(HEARTBEAT_MS * 2);
    bar.tick(4);
    bar.done('pass', 'pass');
    expect(c.text()).toBe('');
  });
});
