/*
 * network/: a network namespace (ns id 3) as CRIU 4.2 dumps it: the devices
 * (netdev-3), the namespace's sysctls (netns-3), and the raw images other
 * programs write for CRIU: "ip addr save" (ifaddr-3), "ip route save" and
 * "ip -6 route save" (route-3, route6-3), "ip rule save" (rule-3),
 * iptables-save and ip6tables-save (iptables-3, ip6tables-3), nft (nftables-3)
 * and the conntrack dump (netns-ct-3; netns-exp-3 is empty: no expectations).
 */
#include <string.h>

#include "gen.h"

/* iproute2's "save" formats start with these words (ipaddress.c, iproute.c, iprule.c) */
#define IFADDR_DUMP_MAGIC 0x47361222
#define ROUTE_DUMP_MAGIC 0x45311224
#define RULE_DUMP_MAGIC 0x71706986

static void sysctl_i(struct img_msg *m, const char *field, int32_t v)
{
	struct img_msg *s = sub(m, field);

	set_e(s, "type", "CTL_32");
	set_i(s, "iarg", v);
}

static void sysctl_s(struct img_msg *m, const char *field, const char *v)
{
	struct img_msg *s = sub(m, field);

	set_e(s, "type", "CTL_STR");
	set_s(s, "sarg", v);
}

/* a few of devconf_inet / devconf_inet6 in CRIU's order, enough to see both kinds */
static void devconf(struct img_msg *m, const char *f4, const char *f6, int forwarding)
{
	static const int32_t v4[] = { 0, 1, 1, 1, 1, 0, 0, 0, 0, 0 };
	static const int32_t v6[] = { 0, 64, 1, 1, 1, -1, 60, 0, 0, 1 };

	for (size_t i = 0; i < 10; i++)
		sysctl_i(m, f4, i == 0 ? forwarding : v4[i]);
	for (size_t i = 0; i < 10; i++)
		sysctl_i(m, f6, i == 0 ? forwarding : v6[i]);
}

static void netns(void)
{
	struct img_msg *m, *id;

	gen_image("NETNS");
	m = gen_entry();
	devconf(m, "def_conf4", "def_conf6", 0);
	devconf(m, "all_conf4", "all_conf6", 1);
	id = sub(m, "nsids");
	set_u(id, "target_ns_id", 9);
	set_i(id, "netnsid_value", 0);
	sysctl_i(m, "unix_conf", 10); /* net.unix.max_dgram_qlen */
	sysctl_s(m, "ipv4_sysctl", "32768\t60999"); /* net.ipv4.ip_local_port_range */
	sysctl_s(m, "ipv4_sysctl", "0\t2147483647"); /* net.ipv4.ping_group_range */
	gen_write("netns-3.img");
}

static struct img_msg *netdev_entry(const char *type, uint32_t ifindex, uint32_t mtu, uint32_t flags,
				    const char *name)
{
	struct img_msg *m = gen_entry();

	set_e(m, "type", type);
	set_u(m, "ifindex", ifindex);
	set_u(m, "mtu", mtu);
	set_u(m, "flags", flags);
	set_s(m, "name", name);
	return m;
}

static void netdev(void)
{
	static const uint8_t mac[6] = { 0x1e, 0x2d, 0x3e, 0x4f, 0x5a, 0x6b }, mac2[6] = { 0x02, 0x42, 0xac, 0x11,
											     0x00, 0x02 };
	struct img_msg *m, *t;

	gen_image("NETDEV");
	m = netdev_entry("LOOPBACK", 1, 65536, 0x49, "lo"); /* IFF_UP | IFF_LOOPBACK | IFF_RUNNING */
	devconf(m, "conf4", "conf6", 0);

	/* IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP */
	m = netdev_entry("VETH", 2, 1500, 0x11043, "eth0");
	set_bytes(m, "address", mac, 6);
	devconf(m, "conf4", "conf6", 0);
	set_u(m, "peer_ifindex", 7);
	set_u(m, "peer_nsid", 0);

	/* IFF_UP | IFF_POINTOPOINT | IFF_NOARP | IFF_MULTICAST */
	m = netdev_entry("TUN", 3, 1500, 0x1091, "tun0");
	t = sub(m, "tun");
	set_u(t, "flags", 0x1001); /* IFF_TUN | IFF_NO_PI */
	set_i(t, "owner", -1);
	set_i(t, "group", -1);
	set_u(t, "vnethdr", 10);
	set_u(t, "sndbuf", 2147483647);

	m = netdev_entry("MACVLAN", 4, 1500, 0x1003, "mv0");
	set_bytes(m, "address", mac2, 6);
	t = sub(m, "macvlan");
	set_u(t, "mode", 4); /* MACVLAN_MODE_BRIDGE */
	set_u(t, "flags", 0);
	set_u(m, "master", 2);

	/* a 6rd tunnel: the addresses are IPv4 words, the prefix an IPv6 one */
	m = netdev_entry("SIT", 5, 1480, 0x91, "sit1");
	t = sub(m, "sit");
	set_u(t, "link", 2);
	add_ip(t, "local", "192.0.2.10");
	add_ip(t, "remote", "203.0.113.1");
	set_u(t, "ttl", 64);
	set_u(t, "tos", 0);
	set_b(t, "pmtudisc", 1);
	set_u(t, "proto", 41); /* IPPROTO_IPV6 */
	set_u(t, "flags", 0);
	set_u(t, "rd_prefixlen", 32);
	add_ip(t, "rd_prefix", "2001:db8::");
	set_u(t, "relay_prefixlen", 0);
	add_ip(t, "relay_prefix", "0.0.0.0");
	gen_write("netdev-3.img");
}

static void put_magic(struct nl *b, uint32_t magic)
{
	b->len = 0;
	img_put_u32(b->buf, magic);
	b->len = 4;
}

static void ip_addr(struct nl *b, uint8_t family, uint8_t plen, uint8_t scope, uint32_t ifindex,
		    const uint8_t *addr, size_t alen, const char *label)
{
	uint8_t ifa[8] = { family, plen, 0x80 /* IFA_F_PERMANENT */, scope };

	img_put_u32(ifa + 4, ifindex);
	nl_begin(b, 20 /* RTM_NEWADDR */, ifa, 8);
	nl_attr(b, 1 /* IFA_ADDRESS */, addr, alen);
	if (family == 2) {
		nl_attr(b, 2 /* IFA_LOCAL */, addr, alen);
		nl_attr(b, 3 /* IFA_LABEL */, label, strlen(label) + 1);
	}
	nl_attr_u32(b, 8 /* IFA_FLAGS */, 0x80);
	nl_end(b);
}

static void route(struct nl *b, uint8_t family, uint8_t dlen, uint8_t proto, uint8_t scope, const uint8_t *dst,
		  const uint8_t *gw, size_t alen, uint32_t oif)
{
	uint8_t rt[12] = { family, dlen, 0, 0, 254 /* RT_TABLE_MAIN */, proto, scope, 1 /* RTN_UNICAST */ };

	nl_begin(b, 24 /* RTM_NEWROUTE */, rt, 12);
	nl_attr_u32(b, 15 /* RTA_TABLE */, 254);
	if (dlen)
		nl_attr(b, 1 /* RTA_DST */, dst, alen);
	if (gw)
		nl_attr(b, 5 /* RTA_GATEWAY */, gw, alen);
	nl_attr_u32(b, 4 /* RTA_OIF */, oif);
	nl_end(b);
}

static void raw(const char *kind, const char *file, const void *p, size_t n)
{
	gen_image(kind);
	gen_raw(p, n);
	gen_write(file);
}

static void iproute(void)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 }, eth4[4] = { 172, 17, 0, 2 }, net4[4] = { 172, 17, 0, 0 },
			     gw4[4] = { 172, 17, 0, 1 };
	static const uint8_t lo6[16] = { [15] = 1 },
			     ll6[16] = { 0xfe, 0x80, [8] = 0x1c, 0x2d, 0x3e, 0xff, 0xfe, 0x4f, 0x5a, 0x6b },
			     net6[16] = { 0xfe, 0x80 };
	static struct nl b;

	put_magic(&b, IFADDR_DUMP_MAGIC);
	ip_addr(&b, 2, 8, 254 /* host */, 1, lo4, 4, "lo");
	ip_addr(&b, 2, 16, 0, 2, eth4, 4, "eth0");
	ip_addr(&b, 10, 128, 254, 1, lo6, 16, NULL);
	ip_addr(&b, 10, 64, 253 /* link */, 2, ll6, 16, NULL);
	raw("IFADDR", "ifaddr-3.img", b.buf, b.len);

	put_magic(&b, ROUTE_DUMP_MAGIC);
	route(&b, 2, 0, 3 /* boot */, 0, NULL, gw4, 4, 2);
	route(&b, 2, 16, 2 /* kernel */, 253, net4, NULL, 4, 2);
	raw("ROUTE", "route-3.img", b.buf, b.len);

	put_magic(&b, ROUTE_DUMP_MAGIC);
	route(&b, 10, 64, 2, 0, net6, NULL, 16, 2);
	raw("ROUTE6", "route6-3.img", b.buf, b.len);

	/* ip rule save: the local, main and default rules */
	put_magic(&b, RULE_DUMP_MAGIC);
	for (int i = 0; i < 3; i++) {
		static const uint8_t tables[3] = { 255, 254, 253 };
		static const uint32_t prio[3] = { 0, 32766, 32767 };
		uint8_t frh[12] = { 2, 0, 0, 0, tables[i], 0, 0, 1 /* FR_ACT_TO_TBL */ };

		nl_begin(&b, 32 /* RTM_NEWRULE */, frh, 12);
		nl_attr_u32(&b, 15 /* FRA_TABLE */, tables[i]);
		if (prio[i])
			nl_attr_u32(&b, 6 /* FRA_PRIORITY */, prio[i]);
		nl_end(&b);
	}
	raw("RULE", "rule-3.img", b.buf, b.len);

	/* one conntrack entry: tcp 172.17.0.2:51744 -> 172.17.0.1:47001 */
	{
		uint8_t nfgen[4] = { 2, 0, 0, 0 };
		struct nl t;

		b.len = 0;
		nl_begin(&b, 0x100 /* NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW */, nfgen, 4);
		/* CTA_TUPLE_ORIG, nested: CTA_TUPLE_IP { SRC, DST }, CTA_TUPLE_PROTO { NUM, SRC_PORT, DST_PORT } */
		t.len = 0;
		{
			struct nl ip, pr;
			uint8_t port[2];

			ip.len = 0;
			nl_attr(&ip, 1, eth4, 4);
			nl_attr(&ip, 2, gw4, 4);
			nl_attr(&t, 0x8000 | 1, ip.buf, ip.len);
			pr.len = 0;
			nl_attr(&pr, 1, "\x06", 1);
			port[0] = 51744 >> 8;
			port[1] = 51744 & 255;
			nl_attr(&pr, 2, port, 2);
			port[0] = 47001 >> 8;
			port[1] = 47001 & 255;
			nl_attr(&pr, 3, port, 2);
			nl_attr(&t, 0x8000 | 2, pr.buf, pr.len);
		}
		nl_attr(&b, 0x8000 | 1, t.buf, t.len);
		nl_attr_u32(&b, 3 /* CTA_STATUS */, __builtin_bswap32(0xe)); /* SEEN_REPLY | ASSURED | CONFIRMED */
		nl_attr_u32(&b, 7 /* CTA_TIMEOUT */, __builtin_bswap32(431999));
		nl_end(&b);
		raw("NETNF_CT", "netns-ct-3.img", b.buf, b.len);
		raw("NETNF_EXP", "netns-exp-3.img", "", 0);
	}
}

static void tables(void)
{
	static const char ipt[] =
		"# Generated by iptables-save v1.8.9 (legacy) on Sat Nov 29 10:19:30 2026\n"
		"*filter\n"
		":INPUT ACCEPT [0:0]\n"
		":FORWARD DROP [0:0]\n"
		":OUTPUT ACCEPT [0:0]\n"
		"-A INPUT -p tcp -m tcp --dport 47001 -j ACCEPT\n"
		"-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
		"COMMIT\n"
		"# Completed on Sat Nov 29 10:19:30 2026\n";
	static const char ip6t[] =
		"# Generated by ip6tables-save v1.8.9 (legacy) on Sat Nov 29 10:19:30 2026\n"
		"*filter\n"
		":INPUT ACCEPT [0:0]\n"
		":FORWARD DROP [0:0]\n"
		":OUTPUT ACCEPT [0:0]\n"
		"-A INPUT -p ipv6-icmp -j ACCEPT\n"
		"COMMIT\n"
		"# Completed on Sat Nov 29 10:19:30 2026\n";
	static const char nft[] =
		"table inet crsubj {\n"
		"\tchain input {\n"
		"\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\ttcp dport 47001 accept\n"
		"\t}\n"
		"}\n";

	raw("IPTABLES", "iptables-3.img", ipt, sizeof(ipt) - 1);
	raw("IP6TABLES", "ip6tables-3.img", ip6t, sizeof(ip6t) - 1);
	raw("NFTABLES", "nftables-3.img", nft, sizeof(nft) - 1);
}

void gen_network(void)
{
	write_inventory(2, NULL);
	netns();
	netdev();
	iproute();
	tables();
}
