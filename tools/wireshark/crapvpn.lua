-- SPDX-License-Identifier: GPL-2.0
-- Wireshark dissector for CrapVPN, the XOR-over-UDP tunnel (docs/wire-format.md).
--
-- UDP payload: "crap" | length (2, BE) | type (2, BE: the payload's EtherType,
-- 0 from the published userspace version) | ciphertext (length bytes).
-- ciphertext[i] = plaintext[i] XOR key[i mod keylen]; the key restarts at
-- byte 8 of every datagram.
--
-- Preferences (Edit > Preferences > Protocols > CrapVPN, or tshark -o):
--   crapvpn.key        the key in hex; spaces and colons are ignored
--   crapvpn.port       the UDP port (default 1337); any other port is
--                      recognised by a heuristic ("crap" and an exact length)
--   crapvpn.zero_is_ethernet
--                      type 0 carries Ethernet (a TAP build of the userspace
--                      version); otherwise type 0 goes by the version nibble
--
-- With a key, the decrypted packet is a new "Decrypted" tab, handed to IPv4,
-- IPv6 or Ethernet by the type field (or by the version nibble for type 0).
-- Works with Wireshark 4.0 (Lua 5.2) and later (Lua 5.4).
--
-- Install: copy to ~/.local/lib/wireshark/plugins/ (one user) or to the
-- global Lua plugin folder (tshark -G folders, "Global Lua Plugins";
-- make -C tools/wireshark install). As root, Wireshark 4.0 runs personal
-- plugins and -X lua_script: scripts only while init.lua (in its global
-- configuration folder) sets run_user_scripts_when_superuser = true, as
-- Debian's does; global plugins run regardless.

local DEFAULT_PORT = 1337
local HDR = 8

local bxor = (bit32 and bit32.bxor) or (bit and bit.bxor) or
	load("return function(a, b) return a ~ b end")()

local crapvpn = Proto("crapvpn", "CrapVPN")

-- The EtherType names Wireshark uses for the values the format knows.
local type_names = {
	[0x0000] = "None (userspace CrapVPN: by the version nibble)",
	[0x0800] = "IPv4",
	[0x86dd] = "IPv6",
	[0x6558] = "Transparent Ethernet bridging",
	[0x0806] = "ARP",
}

local f = {
	magic = ProtoField.string("crapvpn.magic", "Magic"),
	length = ProtoField.uint16("crapvpn.length", "Length", base.DEC),
	type = ProtoField.uint16("crapvpn.type", "Type", base.HEX, type_names),
	ciphertext = ProtoField.bytes("crapvpn.ciphertext", "Ciphertext"),
	decrypted = ProtoField.bytes("crapvpn.decrypted", "Decrypted"),
}
crapvpn.fields = { f.magic, f.length, f.type, f.ciphertext, f.decrypted }

local ex = {
	no_key = ProtoExpert.new("crapvpn.no_key", "No key set: not decrypted " ..
		"(set Preferences > Protocols > CrapVPN > Key)",
		expert.group.UNDECODED, expert.severity.NOTE),
	bad_key = ProtoExpert.new("crapvpn.bad_key", "The key preference is not " ..
		"hex bytes: not decrypted",
		expert.group.UNDECODED, expert.severity.WARN),
	short = ProtoExpert.new("crapvpn.short", "Shorter than the 8-byte " ..
		"header: a receiver drops it",
		expert.group.MALFORMED, expert.severity.ERROR),
	bad_magic = ProtoExpert.new("crapvpn.bad_magic", "Magic is not crap: " ..
		"a receiver drops it",
		expert.group.MALFORMED, expert.severity.ERROR),
	bad_length = ProtoExpert.new("crapvpn.bad_length", "Length field does " ..
		"not match the bytes after the header: a receiver drops it",
		expert.group.MALFORMED, expert.severity.ERROR),
	empty = ProtoExpert.new("crapvpn.empty", "Length is zero: a receiver " ..
		"drops it", expert.group.MALFORMED, expert.severity.WARN),
	type_mismatch = ProtoExpert.new("crapvpn.type_mismatch", "Type " ..
		"disagrees with the decrypted payload",
		expert.group.PROTOCOL, expert.severity.WARN),
	unknown_type = ProtoExpert.new("crapvpn.unknown_type", "Unknown type: " ..
		"decoded by the version nibble",
		expert.group.PROTOCOL, expert.severity.NOTE),
	not_ip = ProtoExpert.new("crapvpn.not_ip", "Decrypted payload is not " ..
		"an IP packet (version nibble neither 4 nor 6): a layer-3 receiver " ..
		"drops it (wrong key?)",
		expert.group.MALFORMED, expert.severity.WARN),
	inner_error = ProtoExpert.new("crapvpn.inner_error", "The inner " ..
		"packet's dissector failed", expert.group.MALFORMED,
		expert.severity.ERROR),
}
crapvpn.experts = { ex.no_key, ex.bad_key, ex.short, ex.bad_magic,
	ex.bad_length, ex.empty, ex.type_mismatch, ex.unknown_type, ex.not_ip,
	ex.inner_error }

crapvpn.prefs.key = Pref.string("Key", "",
	"The tunnel's key in hex (spaces and colons allowed), e.g. 1234ABCD")
crapvpn.prefs.port = Pref.uint("UDP port", DEFAULT_PORT,
	"The UDP port CrapVPN uses (other ports are found by a heuristic)")
crapvpn.prefs.zero_is_ethernet = Pref.bool("Type 0 carries Ethernet", false,
	"Decode a payload of type 0 as an Ethernet frame (a TAP build of the " ..
	"userspace version) instead of by its IP version nibble")

local eth_dis = Dissector.get("eth_withoutfcs")
local ip_dis = Dissector.get("ip")
local ipv6_dis = Dissector.get("ipv6")
local data_dis = Dissector.get("data")

-- The parsed key: a table of byte values, false if the preference is not
-- hex, nil if it is empty.
local key, key_str

local function parse_key(s)
	local hex = s:gsub("[%s:]", "")
	if hex == "" then
		return nil
	end
	if #hex % 2 ~= 0 or hex:find("[^%x]") then
		return false
	end
	local k = {}
	for i = 1, #hex, 2 do
		k[#k + 1] = tonumber(hex:sub(i, i + 1), 16)
	end
	return k
end

local function get_key()
	local s = crapvpn.prefs.key or ""
	if s ~= key_str then
		key_str = s
		key = parse_key(s)
	end
	return key
end

local function decrypt(ct, k)
	local n, klen = ct:len(), #k
	local out = ByteArray.new()
	out:set_size(n)
	for i = 0, n - 1 do
		out:set_index(i, bxor(ct:get_index(i), k[i % klen + 1]))
	end
	return out
end

local function dissect(tvb, pinfo, tree)
	-- The datagram's length (len) and what the capture holds of it (caplen):
	-- a capture cut short (-s) still shows the headers.
	local len, caplen = tvb:reported_len(), tvb:len()
	pinfo.cols.protocol = "CrapVPN"
	local t = tree:add(crapvpn, tvb())
	if len < HDR then
		t:add_proto_expert_info(ex.short)
		pinfo.cols.info = "CrapVPN, short datagram"
		return len
	end
	if caplen < HDR then
		return len
	end
	local magic_ok = tvb:raw(0, 4) == "crap"
	local mi = t:add(f.magic, tvb(0, 4))
	if not magic_ok then
		mi:add_proto_expert_info(ex.bad_magic)
	end
	local clen = tvb(4, 2):uint()	-- the length field
	local li = t:add(f.length, tvb(4, 2))
	local ty = tvb(6, 2):uint()
	local ti = t:add(f.type, tvb(6, 2))
	local n = len - HDR
	if clen ~= n then
		li:add_proto_expert_info(ex.bad_length,
			string.format("Length field is %d, %d bytes follow the header: " ..
			"a receiver drops it", clen, n))
	elseif n == 0 then
		li:add_proto_expert_info(ex.empty)
	end
	pinfo.cols.info = string.format("CrapVPN, length %d, type 0x%04x", clen, ty)
	if n == 0 or caplen <= HDR then
		return len
	end
	local ctr = tvb(HDR, math.min(n, caplen - HDR))
	local ci = t:add(f.ciphertext, ctr)
	if not magic_ok then
		return len
	end
	local k = get_key()
	if k == nil then
		ci:add_proto_expert_info(ex.no_key)
		return len
	elseif k == false then
		ci:add_proto_expert_info(ex.bad_key)
		return len
	end

	local dtvb = decrypt(ctr:bytes(), k):tvb("Decrypted")
	t:add(f.decrypted, dtvb())
	local nib = math.floor(dtvb(0, 1):uint() / 16)
	local by_nibble = { [4] = ip_dis, [6] = ipv6_dis }
	local dis
	if ty == 0x0800 or ty == 0x86dd then
		local want = ty == 0x0800 and 4 or 6
		-- By the type, unless the payload is the other IP version: then
		-- as a layer-3 receiver does, by the version nibble.
		dis = by_nibble[nib] or by_nibble[want]
		if nib ~= want then
			ti:add_proto_expert_info(ex.type_mismatch, string.format(
				"Type 0x%04x says IPv%d, the decrypted payload's version " ..
				"nibble is %d", ty, want, nib))
		end
	elseif ty == 0x6558 then
		dis = eth_dis
		if n < 14 then
			ti:add_proto_expert_info(ex.type_mismatch, string.format(
				"Type 0x6558 says Ethernet, the decrypted payload has only " ..
				"%d bytes", n))
			dis = data_dis
		end
	elseif ty == 0 and crapvpn.prefs.zero_is_ethernet and n >= 14 then
		dis = eth_dis
	else
		if ty ~= 0 then
			ti:add_proto_expert_info(ex.unknown_type)
		end
		dis = by_nibble[nib]
		if not dis then
			ti:add_proto_expert_info(ex.not_ip)
			dis = data_dis
		end
	end
	-- An exception in the inner dissector (a truncated packet) is its
	-- business, not a Lua error: note it and go on.
	local ok, err = pcall(Dissector.call, dis, dtvb, pinfo, tree)
	if not ok then
		t:add_proto_expert_info(ex.inner_error, "Inner packet: " .. tostring(err))
	end
	return len
end

function crapvpn.dissector(tvb, pinfo, tree)
	return dissect(tvb, pinfo, tree)
end

-- Any UDP port: "crap", then a length that matches the datagram exactly.
local function heuristic(tvb, pinfo, tree)
	if tvb:len() < HDR or tvb:raw(0, 4) ~= "crap" or
	   tvb(4, 2):uint() ~= tvb:reported_len() - HDR then
		return false
	end
	dissect(tvb, pinfo, tree)
	return true
end
crapvpn:register_heuristic("udp", heuristic)

local udp_port = DissectorTable.get("udp.port")
local registered_port

local function register_port(port)
	if registered_port == port then
		return
	end
	if registered_port and registered_port ~= 0 then
		udp_port:remove(registered_port, crapvpn)
	end
	registered_port = port
	if port ~= 0 then
		udp_port:add(port, crapvpn)
	end
end

function crapvpn.prefs_changed()
	register_port(crapvpn.prefs.port)
	get_key()
end

register_port(DEFAULT_PORT)
