// SIP from a peer: one message parsed whole, and the same bytes through the
// stream framer in two pieces (the split point taken from the first byte),
// which must agree with the framer's own memory bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "probe/sip/message.hpp"
#include "probe/sip/stream_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto message = probe::sip::parse_message(bytes)) (void)probe::sip::serialize(*message);

  probe::sip::Limits limits;
  probe::sip::StreamParser parser(limits);
  const std::size_t split = size == 0 ? 0 : data[0] % (size + 1);
  for (auto piece : {bytes.substr(0, split), bytes.substr(split)}) {
    (void)parser.feed(piece);
    if (parser.buffered_bytes() > limits.max_message_bytes) std::abort();
  }
  return 0;
}
