// mesos-cni-port-mapper configuration: upstream's fields, defaults, check order and error texts
// (all code 101), plus the names that reach iptables validated so nothing can inject a rule, the
// standard runtimeConfig.portMappings, and the optional `snat` flag.
import { isObject } from '../../cni/config.js';
import * as tok from '../../iptables/tokens.js';
import { badArgs } from './errors.js';
import { fromNetworkInfo, fromRuntimeConfig, mergeMappings, type Mapping } from './mappings.js';

export interface PortMapperConfig {
  name: string;
  cniVersion: string | undefined;
  /** The nat chain holding the DNAT rules (shared by every container of the network). */
  chain: string;
  /** Traffic arriving on these devices is not mapped (every one of them, not only the last). */
  excludeDevices: string[];
  /** Masquerade hairpin traffic (a container reaching itself or a sibling via a host port). */
  snat: boolean;
  /** The delegate's config as it is sent: `delegate` with `name` and `args` set (nothing else added). */
  delegate: Record<string, unknown>;
  delegateType: string;
  mappings: Mapping[];
  /** The config came from Mesos: its `args` carried `org.apache.mesos` (Mesos injects it; we never synthesize it into the input). */
  fromMesos: boolean;
}

const WRONG_TYPE = 'Found JSON value of wrong type'; // stout's text for a present value of another type

type Found<T> = { ok: true; value: T; error?: undefined } | { ok: false; error: string | undefined };

/** stout's `Object::find<T>`: a null value counts as absent; another type is an error. */
function find<T>(o: Record<string, unknown>, key: string, is: (v: unknown) => v is T): Found<T> {
  const v = o[key];
  if (v === undefined || v === null) return { ok: false, error: undefined };
  return is(v) ? { ok: true, value: v } : { ok: false, error: WRONG_TYPE };
}

/** stout's `Object::at<T>`: like find, but a null value is the wrong type. */
function at<T>(o: Record<string, unknown>, key: string, is: (v: unknown) => v is T): Found<T> {
  const v = o[key];
  if (v === undefined) return { ok: false, error: undefined };
  return is(v) ? { ok: true, value: v } : { ok: false, error: WRONG_TYPE };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);

/** Parse and validate a decoded config object. Pure: finding the delegate on disk is the caller's. */
export function parseConfig(c: Record<string, unknown>): PortMapperConfig {
  const name = find(c, 'name', isString);
  if (!name.ok) throw badArgs(`Failed to get the required field 'name': ${name.error ?? 'Not found'}`);

  const chain = find(c, 'chain', isString);
  if (!chain.ok) throw badArgs(`Failed to get the required field 'chain': ${chain.error ?? 'Not found'}`);
  try {
    tok.userChain(chain.value, "field 'chain'", 'nat');
  } catch (e) {
    throw badArgs(`Failed to parse ${(e as Error).message}`);
  }

  const excludeDevices: string[] = [];
  const devices = find(c, 'excludeDevices', isArray);
  if (devices.error) throw badArgs(`Failed to parse field 'excludeDevices': ${devices.error}`);
  if (devices.ok) {
    devices.value.forEach((d, i) => {
      if (typeof d !== 'string') throw badArgs("Failed to parse 'excludeDevices' list. The excluded device needs to be a string");
      try {
        tok.iface(d, `excludeDevices[${i}]`);
      } catch (e) {
        throw badArgs(`Failed to parse 'excludeDevices' list. ${(e as Error).message}`);
      }
      if (!excludeDevices.includes(d)) excludeDevices.push(d);
    });
  }

  // Without args (outside Mesos) upstream makes one with an empty network_info, and sends that
  // to the delegate too.
  const found = find(c, 'args', isObject);
  if (found.error) throw badArgs(`Failed to get the field 'args': ${found.error}`);
  const args = found.ok ? found.value : { 'org.apache.mesos': { network_info: {} } };
  // 'org.apache.mesos' is one key, not a path.
  const mesos = at(args, 'org.apache.mesos', isObject);
  if (!mesos.ok) throw badArgs(`Failed to get the field 'args{org.apache.mesos}': ${mesos.error ?? 'Not found'}`);
  const info = find(mesos.value, 'network_info', isObject);
  if (!info.ok) throw badArgs(`Failed to get the field 'args{org.apache.mesos}{network_info}': ${info.error ?? 'Not found'}`);
  const fromMesos = fromNetworkInfo(info.value);

  if (c.runtimeConfig !== undefined && c.runtimeConfig !== null && !isObject(c.runtimeConfig)) {
    throw badArgs(`Failed to parse field 'runtimeConfig': expected an object, got ${JSON.stringify(c.runtimeConfig)}`);
  }
  const fromRuntime = fromRuntimeConfig(isObject(c.runtimeConfig) ? c.runtimeConfig.portMappings : undefined);

  let snat = false;
  if (c.snat !== undefined) {
    if (typeof c.snat !== 'boolean') throw badArgs(`Failed to parse field 'snat': expected true or false, got ${JSON.stringify(c.snat)}`);
    snat = c.snat;
  }

  // Upstream's texts have no separator between the field and the reason.
  const delegate = find(c, 'delegate', isObject);
  if (!delegate.ok) throw badArgs(`Failed to get the required field 'delegate'${delegate.error ?? 'Not found'}`);
  const type = find(delegate.value, 'type', isString);
  if (!type.ok) throw badArgs(`Failed to get the delegate plugin 'type'${type.error ?? 'Not found'}`);

  return {
    name: name.value,
    cniVersion: typeof c.cniVersion === 'string' && c.cniVersion !== '' ? c.cniVersion : undefined,
    chain: chain.value,
    excludeDevices,
    snat,
    delegate: { ...delegate.value, name: name.value, args },
    delegateType: type.value,
    mappings: mergeMappings(fromMesos, fromRuntime),
    fromMesos: found.ok && Object.hasOwn(found.value, 'org.apache.mesos'),
  };
}
