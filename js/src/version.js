// The SDK's version: the npm package's, and the Go SDK's client.SDKVersion
// (js.TestVersionsAgree checks that the three agree).

/** The SDK's version, sent in `connect` unless the `version` option is set. */
export const VERSION = '0.1.0';
