package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldrt/herald"
	"github.com/heraldrt/herald/broker"
	"github.com/heraldrt/herald/webhook"
)

// WebhookEndpoint is one receiver in the config file's webhooks list.
type WebhookEndpoint struct {
	URL    string `yaml:"url"`
	Secret string `yaml:"secret"`
	// Events lists the events it takes; empty means all.
	Events []string `yaml:"events"`
}

// webhookConfig returns the endpoints of --webhook-url and the webhooks
// list; nil when there is none.
func (c *Config) webhookEndpoints() []webhook.Endpoint {
	var eps []webhook.Endpoint
	if c.WebhookURL != "" {
		eps = append(eps, webhook.Endpoint{URL: c.WebhookURL, Secret: c.WebhookSecret})
	}
	for _, e := range c.Webhooks {
		eps = append(eps, webhook.Endpoint{URL: e.URL, Secret: e.Secret, Events: e.Events})
	}
	return eps
}

// checkWebhooks checks the endpoints as webhook.New would.
func (c *Config) checkWebhooks() error {
	eps := c.webhookEndpoints()
	if len(eps) == 0 {
		if c.WebhookSecret != "" || c.WebhookPublications != "" {
			return fmt.Errorf("webhook_secret and webhook_publications need a receiver: set webhook_url (--webhook-url) or the webhooks list")
		}
		return nil
	}
	w, err := webhook.New(webhook.Config{Endpoints: eps})
	if err != nil {
		return err
	}
	return w.Close(context.Background())
}

// startWebhooks attaches the webhooks, if any, to node. b is the broker
// that joins the nodes (nil for the embedded one): its presence store
// makes the events cluster-wide.
func startWebhooks(node *herald.Node, c *Config, b broker.Broker, reg prometheus.Registerer, log *slog.Logger) (*webhook.Webhooks, error) {
	eps := c.webhookEndpoints()
	if len(eps) == 0 {
		return nil, nil
	}
	wc := webhook.Config{Endpoints: eps, Registry: reg, Logger: log, Publications: c.WebhookPublications.items()}
	if ps, ok := b.(broker.PresenceStore); ok {
		wc.Presence = ps
	}
	w, err := webhook.New(wc)
	if err != nil {
		return nil, err
	}
	w.Attach(node)
	log.Info("webhooks on", "endpoints", len(eps), "cluster_wide", wc.Presence != nil)
	return w, nil
}
