package grafana

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// spec describes one dashboard: its file under dashboards/, its identity
// and its rows.
type spec struct {
	file, uid, title, description string
	rows                          []row
	// vars are template variables beyond the shared ones (variables()).
	vars []cog.Builder[dashboard.VariableModel]
}

// specs lists every dashboard. The kustomization generates one ConfigMap
// per entry; a test checks that the two lists agree.
func specs() []spec {
	return []spec{
		{file: "overview.json", uid: "wsgateway-overview", title: "WSGateway / Overview",
			description: "Health of the wsgateway nodes: connections, messages, latency, slow consumers, " +
				"recovery, Redis, draining, Go runtime. How to read it: docs/operations.md#dashboards.",
			rows: overviewRows()},
		{file: "capacity.json", uid: "wsgateway-capacity", title: "WSGateway / Capacity",
			description: "Load per pod against CPU, memory, --max-connections and the capacity measured in " +
				"docs/benchmarks.md. How to read it: docs/operations.md#dashboards.",
			rows: capacityRows()},
		{file: "inbox.json", uid: "wsgateway-inbox", title: "WSGateway / Inbox and events",
			description: "Clients' send to the backend workers and their replies, the workers, the lifecycle " +
				"events and the webhook. How to read it: docs/operations.md#dashboards.",
			rows: inboxRows(), vars: []cog.Builder[dashboard.VariableModel]{topicVariable()}},
	}
}

// Dashboards returns the JSON of every dashboard, keyed by its file name
// under dashboards/.
func Dashboards() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, s := range specs() {
		b, err := s.build()
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", s.file, err)
		}
		out[s.file] = b
	}
	return out, nil
}

func (s spec) build() ([]byte, error) {
	// The v2 schema the SDK prefers needs Grafana 12's v2 API; the sidecar
	// provisions classic (v1) dashboard JSON, which every Grafana reads.
	//lint:ignore SA1019 the sidecar provisions v1 dashboard JSON
	b := dashboard.NewDashboardBuilder(s.title).Uid(s.uid).Description(s.description).
		Tags([]string{"wsgateway"}).Editable().Refresh("30s").Time("now-3h", "now").
		Timezone(common.TimeZoneBrowser).Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("WSGateway").Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"wsgateway"}).Icon("external link").Tooltip("The other wsgateway dashboards").
			AsDropdown(false).IncludeVars(true).KeepTime(true))
	for _, v := range append(variables(), s.vars...) {
		b.WithVariable(v)
	}
	for _, r := range s.rows {
		b.WithRow(dashboard.NewRowBuilder(r.title))
		for _, p := range r.panels {
			b.WithPanel(p)
		}
	}
	d, err := b.Build()
	if err != nil {
		return nil, err
	}
	// Stable panel ids, in layout order, so links to a panel keep working.
	for i := range d.Panels {
		id := uint32(i + 1)
		if p := d.Panels[i].Panel; p != nil {
			p.Id = &id
		} else if r := d.Panels[i].RowPanel; r != nil {
			r.Id = id
		}
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// variables are the dashboards' template variables. Namespace, zone and
// pod come from wsgateway_build_info, the one series per node that carries
// the zone; each narrows the next.
func variables() []cog.Builder[dashboard.VariableModel] {
	return []cog.Builder[dashboard.VariableModel]{
		dashboard.NewDatasourceVariableBuilder("datasource").Label("Data source").Type("prometheus"),
		labelValues("namespace", "Namespace", `label_values(wsgateway_build_info, namespace)`, false),
		labelValues("zone", "Zone", `label_values(wsgateway_build_info{namespace=~"$namespace"}, zone)`, true),
		labelValues("pod", "Pod",
			`label_values(wsgateway_build_info{namespace=~"$namespace", zone=~"$zone"}, pod)`, true),
	}
}

// labelValues is a query variable over label values. With all, it offers
// "All", which queries send as the regex ".*" (so a node without a zone
// label still matches).
func labelValues(name, label, q string, all bool) *dashboard.QueryVariableBuilder {
	v := dashboard.NewQueryVariableBuilder(name).Label(label).Datasource(datasource).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).Sort(dashboard.VariableSortAlphabeticalAsc)
	if all {
		v.Multi(true).IncludeAll(true).AllValue(".*")
	}
	return v
}
