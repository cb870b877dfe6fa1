// QUICHE's PacketFragments pattern (anchors.md A.2), adapted to IKEv2's nested lengths.
//
// A message is written as a list of fragments, one per field, each with the error detail the
// parser must report when the data ends inside that field. check_boundaries() cuts the message
// at every byte position; every length field that encloses the cut is rewritten to end there
// (otherwise the outermost length would catch every truncation), so the parser reaches the cut
// and must name exactly the field it was reading.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"

namespace ikeplex::test {

struct Fragment {
    Fragment(std::string e, Bytes b, int from = -1, std::string at_start = {})
        : error(std::move(e)),
          bytes(std::move(b)),
          counts_from(from),
          error_at_start(std::move(at_start)) {}

    /// Expected Error::detail when the data ends inside this fragment; "" = parses fine.
    std::string error;
    Bytes bytes;
    /// For a length field: the index of the fragment its count starts at (-1 = not a length).
    int counts_from{-1};
    /// Expected detail when the data ends exactly before this fragment, if that differs (a
    /// multi-byte field that opens an optional repeated structure: nothing of it is there).
    std::string error_at_start;
};
using Fragments = std::vector<Fragment>;

Bytes assemble(const Fragments& f);
/// The first `cut` bytes, with enclosing length fields rewritten to end at the cut.
Bytes truncate_at(const Fragments& f, std::size_t cut);
/// Parses every truncation and the whole; reports mismatches as test failures.
void check_boundaries(const Fragments& f, const std::function<Status(ByteView)>& parse);

}  // namespace ikeplex::test
