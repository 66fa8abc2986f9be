package cli

// How the binary's settings open the HTTP API and the dashboard, for the
// warnings and 401 answers of the api and dashboard packages, which
// would otherwise name their library fields.
const (
	apiKeyHint            = "set --api-key (HERALD_API_KEY, or api_key in the config file)"
	dashboardPasswordHint = "start herald with --dashboard-password (HERALD_DASHBOARD_PASSWORD) or --api-key (HERALD_API_KEY), " +
		"for example herald --dashboard-password \"$(openssl rand -hex 16)\""
)
