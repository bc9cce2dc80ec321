/** SPACING is how long a tab holds the dial lock after its dial starts: the least time between two tabs' dials. */
export const SPACING = 200;
/** BOX bounds the wait for the dial lock: after it a tab dials anyway, so a lock never released blocks nobody. */
export const BOX = 3000;

export const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/**
 * spacedDial returns the independent mode's beforeDial: tabs of one origin
 * take turns on an advisory Web Lock (`ifAvailable`, never queued), each
 * holding it for SPACING after its dial starts. A tab that finds it taken
 * waits a jittered slot and tries again, until BOX has passed; then it dials
 * anyway. The lock only spaces dials: it never guards anything.
 */
export function spacedDial(name: string, locks: any): () => Promise<void> {
  return async () => {
    const end = Date.now() + BOX;
    while (Date.now() < end) {
      const got = await new Promise<boolean>((ok) =>
        locks
          .request(name + ":dial", { ifAvailable: true }, (lock: unknown) => {
            ok(!!lock);
            return lock && sleep(SPACING);
          })
          .catch(() => ok(false)),
      );
      if (got) return;
      await sleep(SPACING * (0.5 + Math.random()));
    }
  };
}
