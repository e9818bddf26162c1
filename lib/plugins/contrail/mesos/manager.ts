// The contrail-mesos-manager call (cni.go CmdAdd/CmdDel in mesos mode): POST
// http://<mesos-ip>:<mesos-port>/add_cni_info or /del_cni_info with {"args": <stdin as a string>,
// "cid": CNI_CONTAINERID, "cmd": "ADD"|"DEL"} — Go's map marshalling: keys sorted, <, > and &
// escaped as \u003c, \u003e, \u0026. Any answer but 200 fails with upstream's text.
import { call, HttpFailure } from '../http.js';

/** The body byte for byte as the Go plugin sends it. */
export function managerBody(stdin: string, cid: string, cmd: 'ADD' | 'DEL'): string {
  return JSON.stringify({ args: stdin, cid, cmd }).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export const managerPath = (cmd: 'ADD' | 'DEL'): string => (cmd === 'ADD' ? '/add_cni_info' : '/del_cni_info');

export async function postManager(target: string, path: string, body: string, timeoutMs: number): Promise<void> {
  const r = await call([target], path, { method: 'POST', body, timeoutMs });
  if (r.status !== 200) throw new HttpFailure(`Failed HTTP POST operation. Return code ${r.status}`, r.status, r);
}
