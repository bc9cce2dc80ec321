// A copy of the constants of grafana/capacity.go (the rest of that file
// does not matter to the report), so that the golden report does not move
// when the dashboard's figures change. TestRealReferences reads the real one.
package grafana

const (
	podDeliveries     = "100000"
	podCPU            = "0.87"
	deliveriesPerCore = "115000"
	memoryBudget      = " * 16384 + 209715200"
)
