package redis

import (
	_ "embed"

	"github.com/redis/rueidis"
)

// The Lua scripts, one job each; lua/*.lua documents their keys and
// arguments. rueidis runs them with EVALSHA and falls back to EVAL once
// per server when the script is not loaded (after a restart, say).
var (
	//go:embed lua/publish.lua
	publishSrc string
	//go:embed lua/history.lua
	historySrc string
	//go:embed lua/presence_add.lua
	presenceAddSrc string
	//go:embed lua/presence_remove.lua
	presenceRemoveSrc string
	//go:embed lua/presence_get.lua
	presenceGetSrc string
	//go:embed lua/publish_plain.lua
	publishPlainSrc string
)

// scripts holds the compiled script handles of one Broker.
type scripts struct {
	publish, history, presenceAdd, presenceRemove, presenceGet, publishPlain *rueidis.Lua
}

func newScripts() scripts {
	return scripts{
		publish:        rueidis.NewLuaScript(publishSrc),
		history:        rueidis.NewLuaScript(historySrc),
		presenceAdd:    rueidis.NewLuaScript(presenceAddSrc),
		presenceRemove: rueidis.NewLuaScript(presenceRemoveSrc),
		presenceGet:    rueidis.NewLuaScript(presenceGetSrc),
		publishPlain:   rueidis.NewLuaScript(publishPlainSrc),
	}
}
