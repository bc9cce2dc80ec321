package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// splitList splits a comma list, trims spaces around items and drops empty
// ones, so " a, ,b," is [a b].
func splitList(s string) []string {
	var items []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// stringList is a flag.Value for a comma list of strings. Set replaces the
// list, so the last --allowed-origins wins like any other flag.
type stringList []string

// String returns the list joined by commas.
func (l *stringList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

// Set replaces the list with the items of s.
func (l *stringList) Set(s string) error {
	*l = splitList(s)
	return nil
}

// Get returns the list as []string.
func (l *stringList) Get() any { return []string(*l) }

// prefixList is a flag.Value for a comma list of CIDRs; a bare address is a
// prefix of one host (/32 or /128). Set replaces the list.
type prefixList []netip.Prefix

// String returns the prefixes joined by commas.
func (l *prefixList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(l.strings(), ",")
}

// Set replaces the list with the prefixes in s, or changes nothing and
// names the first bad item.
func (l *prefixList) Set(s string) error {
	var prefixes []netip.Prefix
	for _, item := range splitList(s) {
		p, err := parsePrefix(item)
		if err != nil {
			return err
		}
		prefixes = append(prefixes, p)
	}
	*l = prefixes
	return nil
}

// Get returns the list as []netip.Prefix.
func (l *prefixList) Get() any { return []netip.Prefix(*l) }

// parsePrefix parses "10.0.0.0/8" or a bare "10.1.2.3" (one host). Host bits
// are cleared ("10.1.2.3/8" is 10.0.0.0/8) so a prefix compares by what it
// matches.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad CIDR %q: want an address/bits such as 10.0.0.0/8", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad CIDR %q: want an address/bits such as 10.0.0.0/8, or one IP address", s)
	}
	a = a.WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// strings returns each prefix in its text form.
func (l *prefixList) strings() []string {
	items := make([]string, len(*l))
	for i, p := range *l {
		items[i] = p.String()
	}
	return items
}
