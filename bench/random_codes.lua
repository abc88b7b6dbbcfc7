-- wrk script for bench/resolve.py's cold run: every request asks for a code chosen uniformly
-- at random from a file of signed code paths, one a line (wrk -s random_codes.lua URL -- FILE).
local paths = {}

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
