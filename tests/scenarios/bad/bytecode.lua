LuaT -- a precompiled chunk, as luac writes it; scenarios must be text
