// Package bench is `herald bench`, a load generator for Herald (and, as a
// comparison aid, for Centrifugo v6) that runs on one machine against a
// server on the same machine.
//
// Five scenarios are offered:
//
//   - idle: N clients connect, subscribe and stay; with --server-pid the
//     server's resident memory growth per client is reported.
//   - fanout: N clients subscribe to one channel; the coordinator publishes
//     at --rate per second through the HTTP API (POST /api/publish with
//     X-API-Key). Each publication carries a sequence number and its send
//     time, so subscribers measure latency and count lost and duplicated
//     deliveries.
//   - chat: clients spread over --rooms rooms; every client publishes over
//     its own WebSocket (--rate in total) and receives its room's traffic.
//   - churn: --clients concurrent loops open a connection, connect,
//     subscribe and close it again, at --rate connections per second in
//     total (0: as fast as they go).
//   - storm: a node restart's reconnect storm. A probe client learns the
//     channel's stream position and publishes --missed publications; then
//     every client opens at once, connects and subscribes with recovery
//     from that position, and the report gives the time until the last
//     one subscribed, the handshakes per second, and how many recovered
//     what they missed.
//
// The process that runs Main is the coordinator. It splits the clients over
// worker processes (the same binary, re-executed with a hidden --worker
// argument) so that no process holds more than about 15,000 sockets, and
// spreads them over several 127.0.0.x source addresses when one address
// would run out of ephemeral ports. Workers send JSON lines on their
// standard output (progress once a second, then a result with a sparse
// latency histogram); the coordinator merges them and prints a text report,
// JSON (--json) and an HTML page with the latency distribution (--html).
//
// --url may name several servers (the nodes of a cluster), separated by
// commas: client i dials the (i mod n)th, so subscribers split evenly
// over the nodes whatever the number of workers, and fanout publishes
// through the first URL's API unless --api-url says otherwise.
// --server-pid may name several processes (the nodes and their broker):
// the server's CPU, memory, CPU per delivery and write system calls per
// delivery are then their sums, and the report gives each process's share.
// When the generator may run on a CPU that one of them may run on, bench
// prints a one-line reminder to pin them apart (taskset -c 0 for the
// server, taskset -c 1 for bench), as docs/benchmarks.md's figures are.
//
// Every target must be a loopback address: bench refuses anything else.
// Every run is bounded by --duration and --clients, and stops by itself.
//
// Clients are goroutine-per-connection readers over a minimal WebSocket
// implementation (wsconn.go) with a 1 KiB read buffer each; larger frames
// are read into pooled buffers, so an idle client holds no large buffer.
package bench
