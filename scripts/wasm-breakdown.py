#!/usr/bin/env python3
"""Where the wasm's bytes go: code-section size per crate, read from the
function names of the unstripped build (before wasm-bindgen and wasm-opt).

    scripts/wasm-breakdown.py \
        target/front/wasm32-unknown-unknown/wasm-release/checkout_web.wasm [top]

Names are Rust-mangled (legacy `_ZN…`); a generic impl is counted under
"<" and the first crate of its `<T as Trait>` path. Sizes before wasm-opt
differ from the shipped file, but their shares are what matters here.
"""
import collections
import re
import sys

SECTION_IMPORT, SECTION_CODE, SECTION_CUSTOM = 2, 10, 0
FUNCTION_NAMES = 1


def leb128(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def name(data, at):
    length, at = leb128(data, at)
    return data[at : at + length].decode("utf8", "replace"), at + length


def sections(data):
    at = 8  # magic and version
    while at < len(data):
        kind = data[at]
        size, at = leb128(data, at + 1)
        yield kind, at, size
        at += size


def imported_functions(data, at):
    """Imported functions come first in the function index space."""
    count, at = leb128(data, at)
    functions = 0
    for _ in range(count):
        _, at = name(data, at)  # module
        _, at = name(data, at)  # field
        kind = data[at]
        at += 1
        if kind == 0:  # function: type index
            functions += 1
            _, at = leb128(data, at)
        elif kind == 1:  # table: element type, limits
            flags, at = leb128(data, at + 1)
            _, at = leb128(data, at)
            if flags & 1:
                _, at = leb128(data, at)
        elif kind == 2:  # memory: limits
            flags, at = leb128(data, at)
            _, at = leb128(data, at)
            if flags & 1:
                _, at = leb128(data, at)
        elif kind == 3:  # global: value type, mutability
            at += 2
    return functions


def crate_of(symbol):
    mangled = re.match(r"_ZN(\d+)", symbol)
    if not mangled:
        return symbol.split("::")[0][:30]
    length = int(mangled.group(1))
    first = symbol[mangled.end() : mangled.end() + length]
    if first.startswith("_$LT$"):
        inner = re.match(r"_\$LT\$(\w+?)\.\.", first)
        return "<" + (inner.group(1) if inner else first[:20])
    return first


def main(path, top):
    data = open(path, "rb").read()
    imports, names, bodies = 0, {}, []
    for kind, at, size in sections(data):
        if kind == SECTION_IMPORT:
            imports = imported_functions(data, at)
        elif kind == SECTION_CODE:
            count, at = leb128(data, at)
            for _ in range(count):
                body, start = leb128(data, at)
                bodies.append(start - at + body)
                at = start + body
        elif kind == SECTION_CUSTOM:
            section, at = name(data, at)
            if section != "name":
                continue
            end = at + size
            while at < end:
                sub = data[at]
                length, at = leb128(data, at + 1)
                if sub == FUNCTION_NAMES:
                    count, entry = leb128(data, at)
                    for _ in range(count):
                        index, entry = leb128(data, entry)
                        names[index], entry = name(data, entry)
                at += length
    per_crate, functions = collections.Counter(), collections.Counter()
    for index, size in enumerate(bodies):
        crate = crate_of(names.get(imports + index, "?"))
        per_crate[crate] += size
        functions[crate] += 1
    total = sum(bodies)
    print(f"code section: {total} bytes in {len(bodies)} functions")
    for crate, size in per_crate.most_common(top):
        print(f"{size:9d} {100 * size / total:5.1f}% {functions[crate]:5d}  {crate}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 40)
