package protocol

import "google.golang.org/protobuf/encoding/protowire"

// Field numbers of herald.proto, the schema of the Protobuf encoding. Keep
// them in step with that file: clients generate their code from it.

// Command.
const (
	cmdID       protowire.Number = 1
	cmdOp       protowire.Number = 2
	cmdChannel  protowire.Number = 3
	cmdData     protowire.Number = 4
	cmdBinary   protowire.Number = 5
	cmdKey      protowire.Number = 6
	cmdToken    protowire.Number = 7
	cmdName     protowire.Number = 8
	cmdVersion  protowire.Number = 9
	cmdSubs     protowire.Number = 10
	cmdRecover  protowire.Number = 11
	cmdOffset   protowire.Number = 12
	cmdEpoch    protowire.Number = 13
	cmdPresence protowire.Number = 14
	cmdMethod   protowire.Number = 15
	cmdSince    protowire.Number = 16
	cmdLimit    protowire.Number = 17
	cmdReverse  protowire.Number = 18
)

// ServerMessage.
const (
	smID           protowire.Number = 1
	smOp           protowire.Number = 2
	smChannel      protowire.Number = 3
	smOffset       protowire.Number = 4
	smEpoch        protowire.Number = 5
	smData         protowire.Number = 6
	smBinary       protowire.Number = 7
	smInfo         protowire.Number = 8
	smKey          protowire.Number = 9
	smTime         protowire.Number = 10
	smResult       protowire.Number = 11
	smError        protowire.Number = 12
	smCode         protowire.Number = 13
	smReason       protowire.Number = 14
	smReconnect    protowire.Number = 15
	smRecoverable  protowire.Number = 16
	smRecovered    protowire.Number = 17
	smPublications protowire.Number = 18
)

// Result.
const (
	resClient       protowire.Number = 1
	resNode         protowire.Number = 2
	resUser         protowire.Number = 3
	resPing         protowire.Number = 4
	resExpires      protowire.Number = 5
	resData         protowire.Number = 6
	resSubs         protowire.Number = 7
	resOffset       protowire.Number = 8
	resEpoch        protowire.Number = 9
	resRecoverable  protowire.Number = 10
	resRecovered    protowire.Number = 11
	resPublications protowire.Number = 12
	resClients      protowire.Number = 13
)

// Publication, ClientInfo, Error, StreamPosition, PresenceInfo, and the
// entries of a map field.
const (
	pubOffset protowire.Number = 1
	pubData   protowire.Number = 2
	pubBinary protowire.Number = 3
	pubInfo   protowire.Number = 4
	pubKey    protowire.Number = 5
	pubTime   protowire.Number = 6

	infoClient protowire.Number = 1
	infoUser   protowire.Number = 2
	infoData   protowire.Number = 3

	errCode    protowire.Number = 1
	errMessage protowire.Number = 2

	posOffset protowire.Number = 1
	posEpoch  protowire.Number = 2

	presUser protowire.Number = 1
	presInfo protowire.Number = 2

	mapKey   protowire.Number = 1
	mapValue protowire.Number = 2
)
