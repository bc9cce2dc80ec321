/** A listener of one event. */
export type Listener<T> = (event: T) => void;

/**
 * Emitter is the one tiny event emitter behind Client and Subscription.
 * A listener that throws does not stop the others nor the library: its error
 * is rethrown on a fresh task, where the host reports it as uncaught.
 */
export class Emitter<M> {
  private _l: { [K in keyof M]?: Set<Listener<M[K]>> } = {};

  /** on adds a listener and returns the function that removes it. */
  on<K extends keyof M>(event: K, fn: Listener<M[K]>): () => void {
    (this._l[event] ||= new Set()).add(fn);
    return () => this.off(event, fn);
  }

  /** off removes a listener added with on. */
  off<K extends keyof M>(event: K, fn: Listener<M[K]>): void {
    this._l[event]?.delete(fn);
  }

  /** @internal */
  _emit<K extends keyof M>(event: K, e: M[K]): void {
    this._l[event]?.forEach((fn) => {
      try {
        fn(e);
      } catch (err) {
        setTimeout(() => {
          throw err;
        });
      }
    });
  }
}
