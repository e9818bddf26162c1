// The `contrail` section of master.json (ours, optional): the default network's subnet and the
// VNIs networks get. Field errors name the field and what was expected.
import { parseCidr4 } from '../../contrail/model.js';
import { ConfigError, obj, optStr, optUint } from '../fields.js';
import { CONTRAIL_DEFAULTS, type ContrailConfig } from './state.js';

export function parseContrailConfig(raw: unknown): ContrailConfig {
  if (raw === undefined) return CONTRAIL_DEFAULTS;
  const c = obj(raw, 'contrail');
  const subnet = optStr(c, 'default_subnet', 'contrail.default_subnet') ?? CONTRAIL_DEFAULTS.defaultSubnet;
  const p = parseCidr4(subnet);
  if (!p || p.prefix > 30) throw new ConfigError(`contrail.default_subnet: expected an IPv4 subnet a.b.c.d/len (len at most 30), got ${JSON.stringify(subnet)}`);
  const first = optUint(c, 'vni_first', 'contrail.vni_first', 16_777_215) ?? CONTRAIL_DEFAULTS.vniFirst;
  const last = optUint(c, 'vni_last', 'contrail.vni_last', 16_777_215) ?? CONTRAIL_DEFAULTS.vniLast;
  if (first < 1 || first > last) throw new ConfigError(`contrail.vni_first: expected 1 to vni_last (${last}), got ${first}`);
  return { defaultSubnet: p.text, vniFirst: first, vniLast: last };
}
