/**
 * Graceful shutdown on SIGTERM/SIGINT: the first signal runs the provided
 * shutdown once (stop taking work, finish in-flight reconciles, release the
 * lease) and then exits 0 (1 if shutdown failed); a second signal exits at
 * once with 128 + the signal number, for when shutdown hangs.
 */
import { constants } from 'node:os';
import type { Logger } from 'pino';

/** Where signals come from; `process` by default, an EventEmitter in tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface SignalHandlerOptions {
  /** Runs once, on the first signal. */
  shutdown: (signal: NodeJS.Signals) => Promise<void> | void;
  logger?: Logger;
  /** Default `['SIGTERM', 'SIGINT']`. */
  signals?: readonly NodeJS.Signals[];
  /** Default `process`. */
  source?: SignalSource;
  /**
   * Called with 0 after a clean shutdown, 1 after a failed one, and
   * 128 + signal number on a second signal. Default `process.exit`.
   */
  exit?: (code: number) => void;
}

export interface SignalHandlers {
  /** Whether a signal has started the shutdown. */
  readonly shuttingDown: boolean;
  /** Remove the listeners (e.g. after a shutdown that did not come from a signal). */
  uninstall(): void;
}

export function installSignalHandlers(options: SignalHandlerOptions): SignalHandlers {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const source: SignalSource = options.source ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const logger = options.logger;
  let shuttingDown = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      const code = 128 + (constants.signals[signal] ?? 0);
      logger?.warn({ signal, exitCode: code }, 'second signal received, exiting without finishing shutdown');
      exit(code);
      return;
    }
    shuttingDown = true;
    logger?.info({ signal }, 'signal received, shutting down gracefully (send it again to force exit)');
    Promise.resolve()
      .then(() => options.shutdown(signal))
      .then(
        () => {
          logger?.info('shutdown complete');
          exit(0);
        },
        (error: unknown) => {
          logger?.error({ err: error }, 'shutdown failed');
          exit(1);
        },
      );
  };

  for (const signal of signals) source.on(signal, onSignal);
  return {
    get shuttingDown() {
      return shuttingDown;
    },
    uninstall() {
      for (const signal of signals) source.removeListener(signal, onSignal);
    },
  };
}
