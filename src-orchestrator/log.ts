// The slice of pino the orchestrator's parts log through, so tests can hand in a recorder and the process a pino logger.
export interface OrchestratorLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export const SILENT_LOG: OrchestratorLog = { info() {}, warn() {}, error() {} };
