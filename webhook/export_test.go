package webhook

// NewWebhook is newWebhook, for the benchmarks.
var NewWebhook = newWebhook
