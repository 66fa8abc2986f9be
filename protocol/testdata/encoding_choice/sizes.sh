#!/bin/sh
# The minified (and gzipped) size of what a browser SDK would bundle from
# each candidate library, with esbuild. Run it where bench.mjs's
# package.json was installed (see bench.mjs).
set -e
size() {
	echo "$2" > "e_$1.mjs"
	npx esbuild "e_$1.mjs" --bundle --minify --format=esm --outfile="out_$1.js" --log-level=error
	printf '%s: %d bytes minified, %d gzipped\n' "$1" "$(wc -c < "out_$1.js")" "$(gzip -9c "out_$1.js" | wc -c)"
}
size msgpack "import {decode,encode} from '@msgpack/msgpack'; console.log(decode,encode)"
size bufbuild-wire "import {BinaryReader,BinaryWriter} from '@bufbuild/protobuf/wire'; console.log(BinaryReader,BinaryWriter)"
size bufbuild-runtime "import {fromBinary,toBinary,create} from '@bufbuild/protobuf'; console.log(fromBinary,toBinary,create)"
size protobufjs-minimal "import p from 'protobufjs/minimal.js'; console.log(p)"
size protobufjs-light "import p from 'protobufjs/light.js'; console.log(p)"
