import net from 'node:net';

/**
 * A list of addresses and CIDR ranges (`127.0.0.0/8`, `::1`, `10.0.0.0/8, fc00::/7`), for
 * the allow lists of /metrics and /legacy. Built on node's `net.BlockList`, which matches
 * ranges correctly for both families; IPv4-mapped IPv6 peers (`::ffff:10.1.2.3`, what a
 * dual-stack listener reports) are matched as the IPv4 address they carry.
 */
export class AddressList {
  private readonly list = new net.BlockList();

  /** `spec` as written in the variable; throws an Error naming the first bad entry. */
  constructor(readonly spec: string) {
    for (const raw of spec.split(',')) {
      const entry = raw.trim();
      if (entry === '') continue;
      const [addr = '', prefixText] = entry.split('/');
      const family = net.isIP(addr);
      if (family === 0) throw new Error(`not an address or CIDR range: ${JSON.stringify(entry)}`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefixText === undefined) {
        this.list.addAddress(addr, type);
        continue;
      }
      const prefix = Number(prefixText);
      if (!/^\d{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) {
        throw new Error(`bad prefix length in ${JSON.stringify(entry)}`);
      }
      this.list.addSubnet(addr, prefix, type);
    }
  }

  has(address: string | undefined): boolean {
    if (!address) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const addr = mapped ? mapped[1]! : address;
    const family = net.isIP(addr);
    if (family === 0) return false;
    return this.list.check(addr, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Loopback only: where the legacy endpoint is open by default. */
export const LOOPBACK = '127.0.0.0/8, ::1/128';
/** Loopback and the private ranges (RFC 1918, RFC 4193 unique-local, link-local): /metrics by default. */
export const LOOPBACK_AND_PRIVATE =
  '127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7, 169.254.0.0/16, fe80::/10';
