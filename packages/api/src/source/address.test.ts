import { describe, expect, it } from 'vitest';
import { nonPublicReason } from './address.ts';

describe('nonPublicReason', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.8.9.1', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['169.254.169.254', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['10.1.2.3', 'a private or reserved address'],
    ['172.20.0.1', 'a private or reserved address'],
    ['192.168.1.1', 'a private or reserved address'],
    ['100.64.0.1', 'a private or reserved address'],
    ['0.0.0.0', 'a private or reserved address'],
    ['fd00::1', 'a private or reserved address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:10.0.0.1', 'a private or reserved address'],
  ])('%s is %s', (ip, reason) => {
    expect(nonPublicReason(ip)).toBe(reason);
  });

  it.each(['208.80.154.224', '2620:0:861:ed1a::1', '8.8.8.8', '172.32.0.1'])('%s is public', (ip) => {
    expect(nonPublicReason(ip)).toBeUndefined();
  });
});
