// The error an iptables-restore/-save run reports: its stderr, and for a restore the payload line
// it failed on (legacy iptables often says only "line N failed"); or what the kernel refused when
// rules were deleted over nf_tables netlink.
import { errnoMessage, errnoName, SpawnError } from '../native/index.js';
import type { ExecResult } from '../netns/index.js';

export class IptablesError extends SpawnError {
  /** The program's stderr, trimmed. */
  readonly stderr: string;
  /** The payload that was refused ('' for iptables-save). */
  readonly payload: string;
  /** 1-based payload line the program blamed, or 0. */
  readonly line: number;

  constructor(message: string, fields: { stderr: string; payload: string; line: number; code: string }) {
    super(message, { code: fields.code, op: message.slice(0, message.indexOf(':')), detail: fields.stderr });
    this.stderr = fields.stderr;
    this.payload = fields.payload;
    this.line = fields.line;
  }

  /** `iptables-restore (nat): <stderr> [payload line 3: -N FOO]` from a failed run. */
  static from(bin: string, table: string, r: ExecResult, payload = ''): IptablesError {
    // Keep the diagnosis, drop the usage hint legacy iptables appends, one line for logs.
    const stderr = r.stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('Try `'))
      .reduce((acc, l) => (acc === '' ? l : acc + (acc.endsWith(':') ? ' ' : '; ') + l), '');
    const m = /line:? (\d+)/.exec(stderr);
    const line = m ? Number(m[1]) : 0;
    const failed = line > 0 ? payload.split('\n')[line - 1] : undefined;
    const cause = r.timedOut ? 'timed out' : stderr || (r.signal ? `killed by signal ${r.signal}` : `exit status ${r.status}`);
    const at = failed ? ` [payload line ${line}: ${failed}]` : '';
    return new IptablesError(`${bin} (${table}): ${cause}${at}`, {
      stderr,
      payload,
      line,
      code: r.timedOut ? 'ETIMEDOUT' : 'EIPTABLES',
    });
  }

  /**
   * A transaction written over nf_tables netlink that was refused (by the kernel, or because a
   * rule to delete was not there): `item` is the op's place in the equivalent restore payload,
   * so the error names that line, as iptables-restore's would.
   */
  static fromNft(what: string, r: { errno: number; item: number; what: string; extack?: string }, payload: string): IptablesError {
    const line = r.item >= 0 ? r.item + 2 : 0;
    const failed = line > 0 ? payload.split('\n')[line - 1] : undefined;
    const detail = r.extack ?? '';
    const at = failed ? ` [payload line ${line}: ${failed}]` : '';
    return new IptablesError(`${what}: ${r.what}: ${errnoMessage(r.errno)}${detail ? `: ${detail}` : ''}${at}`, {
      stderr: detail,
      payload,
      line,
      code: errnoName(r.errno),
    });
  }

  /** A change made over nf_tables netlink (nft.ts) that the kernel refused: `code` is the errno name. */
  static fromKernel(what: string, op: string, errno: number, extack = ''): IptablesError {
    return new IptablesError(`${what}: ${op}: ${errnoMessage(errno)}${extack ? `: ${extack}` : ''}`, {
      stderr: extack,
      payload: '',
      line: 0,
      code: errnoName(errno),
    });
  }
}
