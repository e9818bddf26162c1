// dummy links: `ip link add NAME type dummy`. Some kernels (this project's test VM among them) are
// built without the dummy driver; isUnknownKind tells that answer apart (callers pick a fallback:
// lib/plugins/shared/standalone.ts).
import { isErrno } from '../native/index.js';
import { defineLinkKind } from './link.js';

declare module './link.js' {
  interface LinkKinds {
    dummy: Record<never, never>;
  }
}

defineLinkKind('dummy', () => ({}));

/** The kernel's answer for a link kind it does not know (after trying to load its module). */
export function isUnknownKind(e: unknown): boolean {
  return isErrno(e, 'EOPNOTSUPP') && (e.detail === '' || /unknown device type/i.test(e.detail));
}
