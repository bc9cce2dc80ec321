package jmeter

// JMeter names a test element's class in two attributes: testclass (the
// element) and guiclass (its editor). Core classes appear under their short
// aliases from JMeter's saveservice.properties; plugin classes by their full
// Java name. These lists are what the plan may use: every alias below exists
// in JMeter 5.0 through 5.6, every plugin class in JMeter WebSocket Samplers
// 1.2 and later. Add to them only after checking the class exists there.

// coreClasses maps each allowed JMeter core testclass to the guiclasses that
// edit it.
var coreClasses = map[string][]string{
	"TestPlan":                {"TestPlanGui"},
	"ThreadGroup":             {"ThreadGroupGui"},
	"SetupThreadGroup":        {"SetupThreadGroupGui"},
	"PostThreadGroup":         {"PostThreadGroupGui"},
	"LoopController":          {"LoopControlPanel"},
	"GenericController":       {"LogicControllerGui"},
	"TransactionController":   {"TransactionControllerGui"},
	"IfController":            {"IfControllerPanel"},
	"WhileController":         {"WhileControllerGui"},
	"OnceOnlyController":      {"OnceOnlyControllerGui"},
	"RunTime":                 {"RunTimeGui"},
	"Arguments":               {"ArgumentsPanel", "HTTPArgumentsPanel"},
	"ConfigTestElement":       {"HttpDefaultsGui"},
	"HTTPSamplerProxy":        {"HttpTestSampleGui"},
	"HeaderManager":           {"HeaderPanel"},
	"CookieManager":           {"CookiePanel"},
	"ResponseAssertion":       {"AssertionGui"},
	"JSONPathAssertion":       {"JSONPathAssertionGui"},
	"DurationAssertion":       {"DurationAssertionGui"},
	"JSR223Assertion":         {"TestBeanGUI"},
	"JSONPostProcessor":       {"JSONPostProcessorGui"},
	"RegexExtractor":          {"RegexExtractorGui"},
	"JSR223PostProcessor":     {"TestBeanGUI"},
	"JSR223PreProcessor":      {"TestBeanGUI"},
	"ConstantTimer":           {"ConstantTimerGui"},
	"UniformRandomTimer":      {"UniformRandomTimerGui"},
	"ConstantThroughputTimer": {"TestBeanGUI"},
	"DebugSampler":            {"TestBeanGUI"},
	"ResultCollector": {"SimpleDataWriter", "SummaryReport", "ViewResultsFullVisualizer",
		"StatVisualizer", "TableVisualizer"},
}

// pluginPackage is the Java package of the JMeter WebSocket Samplers plugin
// (https://github.com/Luminis-Arnhem/jmeter-websocket-samplers).
const pluginPackage = "eu.luminis.jmeter.wssampler."

// pluginClasses are the plugin's test elements; each is edited by the class
// of the same name with a Gui suffix.
var pluginClasses = []string{
	"OpenWebSocketSampler",
	"SingleWriteWebSocketSampler",
	"SingleReadWebSocketSampler",
	"RequestResponseWebSocketSampler",
	"CloseWebSocketSampler",
	"PingPongSampler",
	"PingFrameFilter",
	"TextFrameFilter",
	"BinaryFrameFilter",
}

// elementTypes are the classes allowed in elementType attributes: the
// values nested inside another element's properties.
var elementTypes = map[string]bool{
	"Arguments": true, "Argument": true, "HTTPArgument": true, "Header": true,
	"LoopController": true, "Cookie": true,
}

// valueClasses are the classes allowed in <value class="..."> of an objProp.
var valueClasses = map[string]bool{"SampleSaveConfiguration": true}

// allowedClasses returns testclass -> allowed guiclasses, core and plugin.
func allowedClasses() map[string]map[string]bool {
	m := map[string]map[string]bool{}
	for tc, guis := range coreClasses {
		m[tc] = map[string]bool{}
		for _, g := range guis {
			m[tc][g] = true
		}
	}
	for _, c := range pluginClasses {
		m[pluginPackage+c] = map[string]bool{pluginPackage + c + "Gui": true}
	}
	return m
}

// Plugin classes the checks look for by name.
const (
	openSampler     = pluginPackage + "OpenWebSocketSampler"
	writeSampler    = pluginPackage + "SingleWriteWebSocketSampler"
	requestSampler  = pluginPackage + "RequestResponseWebSocketSampler"
	subprotocol     = "wsgateway.v1"
	subprotocolName = "Sec-WebSocket-Protocol"
)
