// Package nats is a Herald broker on NATS (placeholder doc, replaced below).
package nats
