import { BlockList, isIP } from 'node:net';

/**
 * Printer addresses the hub may open TCP connections to: loopback, private and link-local ranges,
 * plus the operator's LAN_PRINTER_ALLOWED_NETWORKS. Only IP literals: a host name could resolve
 * elsewhere between the check and the connection.
 */
const DEFAULT_RANGES: [string, number, 'ipv4' | 'ipv6'][] = [
  ['127.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
];

export function printerNetworks(extra: readonly string[]): BlockList {
  const list = new BlockList();
  for (const [net, prefix, type] of DEFAULT_RANGES) list.addSubnet(net, prefix, type);
  for (const cidr of extra) {
    const [net, prefix] = cidr.split('/');
    const v = isIP(net ?? '');
    if (v) list.addSubnet(net!, Number(prefix), v === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

export type AddressCheck = { ok: true; address: string } | { ok: false; message: string };

/** `tcp://host:port` with host an IP literal in an allowed range (IPv6 in brackets). */
export function checkPrinterAddress(raw: string, allowed: BlockList): AddressCheck {
  const m = /^tcp:\/\/(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(raw);
  if (!m)
    return {
      ok: false,
      message: 'The address must look like tcp://192.168.1.50:9100 (an IP address, not a host name).',
    };
  const host = m[1] ?? m[2]!;
  const port = Number(m[3]);
  const v = isIP(host);
  if (!v || port < 1 || port > 65535)
    return { ok: false, message: 'The address has no valid IP address and port.' };
  if (!allowed.check(host, v === 4 ? 'ipv4' : 'ipv6'))
    return {
      ok: false,
      message: `${host} is not in a loopback, private or link-local range (or LAN_PRINTER_ALLOWED_NETWORKS).`,
    };
  return { ok: true, address: `tcp://${v === 6 ? `[${host}]` : host}:${port}` };
}
