import { BlockList, isIP } from 'node:net';

/** Addresses a build must not reach unless allowlisted: loopback, private, link-local, and the like. */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** Why an address is not public, or undefined when it is. IPv4-mapped IPv6 is judged as IPv4. */
export function nonPublicReason(address: string): string | undefined {
  const mapped = address.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
  const ip = mapped ? (mapped[1] as string) : address;
  const family = isIP(ip);
  if (!family) return 'not an IP address';
  if (blocked.check(ip, family === 4 ? 'ipv4' : 'ipv6')) {
    if (/^127\.|^::1$/.test(ip)) return 'a loopback address';
    if (/^169\.254\.|^fe[89ab]/i.test(ip)) return 'a link-local address';
    return 'a private or reserved address';
  }
  return undefined;
}
