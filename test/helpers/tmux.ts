/**
 * A real pseudo-terminal for interactive flows: tmux runs the command, send-keys types and
 * capture-pane reads the screen, as a person would see it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class TmuxSession {
  private readonly socket = `akm-test-${randomBytes(4).toString('hex')}`;
  private readonly exitFile: string;

  constructor(
    dir: string,
    env: NodeJS.ProcessEnv,
    command: string[],
    /** the terminal's size: 160 × 50 unless a test needs another (a narrow terminal) */
    size: { columns: number; rows: number } = { columns: 160, rows: 50 },
  ) {
    this.exitFile = join(dir, `exit-${this.socket}`);
    const script = join(dir, `run-${this.socket}.sh`);
    const exports = Object.entries(env)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `export ${k}='${String(v).replace(/'/g, "'\\''")}'`)
      .join('\n');
    const quoted = command.map((c) => `'${c.replace(/'/g, "'\\''")}'`).join(' ');
    // The tmux server hands its own environment (CI=true under CI, say) to the pane: clear it,
    // so the command sees exactly `env`. The exit code goes to a file; the pane stays open so
    // the screen can still be read.
    const clear = `for name in $(env | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p'); do unset "$name"; done`;
    writeFileSync(script, `${clear}\n${exports}\n${quoted}\necho $? > '${this.exitFile}'\nsleep 600\n`, {
      mode: 0o700,
    });
    execFileSync('tmux', [
      '-L',
      this.socket,
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-x',
      String(size.columns),
      '-y',
      String(size.rows),
      'sh',
      script,
    ]);
  }

  screen(): string {
    return spawnSync('tmux', ['-L', this.socket, 'capture-pane', '-p', '-J', '-S', '-200'], { encoding: 'utf8' })
      .stdout;
  }

  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; screen:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** tmux key names: 'Enter', 'Down', 'Space', 'C-c', or literal text with literal=true */
  keys(...keys: string[]): void {
    execFileSync('tmux', ['-L', this.socket, 'send-keys', ...keys]);
  }

  type(text: string): void {
    execFileSync('tmux', ['-L', this.socket, 'send-keys', '-l', text]);
  }

  async exitCode(timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(this.exitFile) || readFileSync(this.exitFile, 'utf8').trim() === '') {
      if (Date.now() > deadline) throw new Error(`no exit within ${timeoutMs} ms; screen:\n${this.screen()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return Number(readFileSync(this.exitFile, 'utf8').trim());
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { stdio: 'ignore' });
  }
}
