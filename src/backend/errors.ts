/** A backend that was named explicitly cannot start here; the message says what to do. */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: string,
    why: string,
  ) {
    super(`backend '${backend}' is not available: ${why}`);
    this.name = 'BackendUnavailableError';
  }
}
