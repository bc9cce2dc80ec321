package grafana

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// datasource is every panel's and variable's data source: the dashboard's
// datasource variable, so one dashboard serves every Prometheus.
var datasource = dashboard.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

// query is one target of a panel: a PromQL expression and its legend.
type query struct {
	expr, legend string
}

// row is a titled group of panels, laid out left to right, 24 units wide.
type row struct {
	title  string
	panels []cog.Builder[dashboard.Panel]
}

// target turns the i-th query of a panel into a Prometheus target with
// refId A, B, C, ...
func target(i int, q query) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().RefId(refID(i)).Expr(q.expr).LegendFormat(q.legend).Range()
}

func refID(i int) string { return string(rune('A' + i)) }

// graph is a time series panel, half a row wide.
func graph(title, unit, description string, qs ...query) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Description(description).Datasource(datasource).
		Unit(unit).Min(0).Height(8).Span(12).FillOpacity(10).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).
			DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
	for i, q := range qs {
		p.WithTarget(target(i, q))
	}
	return p
}

// withReference draws the query refID of p as a dashed red line: a limit,
// an SLO or a measured capacity rather than a measurement.
func withReference(p *timeseries.PanelBuilder, refID string) *timeseries.PanelBuilder {
	return p.OverrideByQuery(refID, []dashboard.DynamicConfigValue{
		{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": "red"}},
		{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
		{Id: "custom.fillOpacity", Value: 0},
	})
}

// single is a stat panel showing the latest value of one query, a sixth of
// a row wide, green below warn and red from bad on (bad 0: no red).
func single(title, unit, description string, q query, warn, bad float64) *stat.PanelBuilder {
	steps := []dashboard.Threshold{{Color: "green"}}
	if warn > 0 {
		steps = append(steps, dashboard.Threshold{Value: cog.ToPtr(warn), Color: "orange"})
	}
	if bad > 0 {
		steps = append(steps, dashboard.Threshold{Value: cog.ToPtr(bad), Color: "red"})
	}
	return stat.NewPanelBuilder().Title(title).Description(description).Datasource(datasource).
		Unit(unit).Height(4).Span(4).WithTarget(target(0, q)).
		GraphMode(common.BigValueGraphModeArea).ColorMode(common.BigValueColorModeValue).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps))
}

// states is a state timeline, one lane per series, that names each value.
func states(title, description string, q query, names map[float64]state) *statetimeline.PanelBuilder {
	return statetimeline.NewPanelBuilder().Title(title).Description(description).Datasource(datasource).
		Height(8).Span(12).WithTarget(target(0, q)).Mappings([]dashboard.ValueMapping{valueNames(names)}).
		ShowValue(common.VisibilityModeNever).MergeValues(true).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeSingle).Sort(common.SortOrderNone))
}

// state is how a panel shows one value of a gauge that encodes a state.
type state struct{ text, color string }

// valueNames is a value mapping that shows each value by its state's name
// and color.
func valueNames(names map[float64]state) dashboard.ValueMapping {
	options := map[string]dashboard.ValueMappingResult{}
	for v, s := range names {
		options[fmt.Sprint(v)] = dashboard.ValueMappingResult{Text: cog.ToPtr(s.text), Color: cog.ToPtr(s.color)}
	}
	return dashboard.ValueMapOrRangeMapOrRegexMapOrSpecialValueMap{
		ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: options},
	}
}
