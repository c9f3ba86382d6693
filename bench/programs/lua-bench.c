/* A fixed Lua workload for the benchmark of real programs: the interpreter's dispatch loop, tables,
   closures and strings, run by liblua linked statically. */
#include <stdio.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

static const char *SCRIPT =
  "local n = tonumber(arg1) or 24\n"
  "local function fib(k) if k < 2 then return k end return fib(k - 1) + fib(k - 2) end\n"
  "local t = {}\n"
  "for i = 1, 4000 do t[i] = (i * 7919) % 10007 end\n"
  "table.sort(t)\n"
  "local words = {}\n"
  "for i = 1, 800 do words[#words + 1] = string.format('w%05d', (i * 31) % 800) end\n"
  "local s = table.concat(words, ' ')\n"
  "local count = 0\n"
  "for w in s:gmatch('w0*(%d+)') do count = count + #w end\n"
  "local acc = 0\n"
  "for i = 1, #t, 97 do acc = (acc * 31 + t[i]) % 1000000007 end\n"
  "print(string.format('lua: fib(%d)=%d sorted=%d count=%d', n, fib(n), acc, count))\n";

int main(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  lua_pushstring(L, argc > 1 ? argv[1] : "24");
  lua_setglobal(L, "arg1");
  if (luaL_dostring(L, SCRIPT) != LUA_OK) { fprintf(stderr, "%s\n", lua_tostring(L, -1)); return 1; }
  lua_close(L);
  return 0;
}
