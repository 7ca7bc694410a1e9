// `mtlsprobe load TARGET`: how many mutual-TLS handshakes per second an
// endpoint takes, and how the failures split, the job a tester does before
// go-live. The engine is probe/load/; this file turns flags into its
// settings, shows progress and writes the report.
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <thread>

#include "probe/commands/commands.hpp"
#include "probe/commands/options.hpp"
#include "probe/findings.hpp"
#include "probe/load/engine.hpp"
#include "probe/load/load_report.hpp"
#include "probe/online/endpoint.hpp"
#include "probe/sip/message.hpp"
#include "tls/dns.hpp"

namespace probe {
namespace {

struct LoadFlags {
  std::string target;
  std::size_t connections = 16;
  double rate = 0;
  double duration_seconds = 0;
  std::uint64_t count = 0;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  bool tls12 = false, tls13 = false;
  std::string tls_version;
  std::string resumption = "off";
  bool sip = false;
  DialFlags dial;
  double timeout_seconds = 10;
  double verdict_wait_seconds = 1.5;
  bool progress = false;
  ReportFlags report;
};

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000)));
}

mtls::Result<std::pair<tls::TlsVersion, tls::TlsVersion>> version_range(const LoadFlags& flags) {
  int chosen = (flags.tls12 ? 1 : 0) + (flags.tls13 ? 1 : 0) + (flags.tls_version.empty() ? 0 : 1);
  if (chosen > 1) return mtls::Error{"give one of --tls1.2, --tls1.3 and --tls-version"};
  if (flags.tls12) return std::pair{tls::TlsVersion::tls1_2, tls::TlsVersion::tls1_2};
  if (flags.tls13) return std::pair{tls::TlsVersion::tls1_3, tls::TlsVersion::tls1_3};
  if (flags.tls_version.empty()) return std::pair{tls::TlsVersion::tls1_2, tls::TlsVersion::tls1_3};
  auto version = tls::parse_tls_version(flags.tls_version);
  if (!version) return mtls::Error{"--tls-version " + flags.tls_version + ": give 1.2 or 1.3"};
  return std::pair{*version, *version};
}

// The address to dial: --connect-to, the literal, or the name's first address.
mtls::Result<boost::asio::ip::tcp::endpoint> dial_endpoint(const LoadFlags& flags,
                                                           const HostPort& target) {
  HostPort dial = target;
  if (!flags.dial.connect_to.empty()) {
    auto other = parse_host_port(flags.dial.connect_to, target.port);
    if (!other) return mtls::Error{"--connect-to: " + other.error().message};
    dial = *other;
  }
  if (!is_ip_literal(dial.host)) {
    tls::DnsOptions dns;
    dns.timeout = milliseconds(flags.timeout_seconds);
    auto answer = tls::resolve_addresses(dial.host, dns);
    if (answer.addresses.empty()) return mtls::Error{answer.message};
    dial.host = answer.addresses.front();
  }
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(dial.host, ec);
  if (ec) return mtls::Error{dial.host + ": not an IP address"};
  return boost::asio::ip::tcp::endpoint(address, dial.port);
}

// Once a second on stderr: where the run is.
void show_progress(const load::LoadProgress& progress, double seconds, bool terminal) {
  const auto ok = progress.succeeded.load(std::memory_order_relaxed);
  const auto failed = progress.failed.load(std::memory_order_relaxed);
  std::fprintf(stderr, "%smtlsprobe load: %.0f s, %llu succeeded, %llu failed, %.1f hs/s%s",
               terminal ? "\r" : "", seconds, static_cast<unsigned long long>(ok),
               static_cast<unsigned long long>(failed),
               seconds > 0 ? static_cast<double>(ok) / seconds : 0.0, terminal ? "" : "\n");
  std::fflush(stderr);
}

load::LoadResult run_with_progress(const load::LoadSettings& settings,
                                   const tls::ClientContext& context, bool show) {
  load::LoadProgress progress;
  std::atomic<bool> done{false};
  load::LoadResult result;
  std::thread runner([&] {
    result = load::run_load(settings, context, progress);
    done = true;
  });
  const bool terminal = isatty(STDERR_FILENO) != 0;
  const auto started = std::chrono::steady_clock::now();
  auto next = started + std::chrono::seconds(1);
  while (!done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!show || std::chrono::steady_clock::now() < next) continue;
    show_progress(progress,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                  terminal);
    next += std::chrono::seconds(1);
  }
  runner.join();
  if (show && terminal && next > started + std::chrono::seconds(1)) std::fputc('\n', stderr);
  return result;
}

int run_load_command(const LoadFlags& flags) {
  if (flags.duration_seconds <= 0 && flags.count == 0)
    return fail_input("load: give --duration SECONDS or --count N (a load run is always bounded)");
  auto target = parse_host_port(flags.target, 5061);
  if (!target) return fail_input("load: " + flags.target + ": " + target.error().message);
  auto range = version_range(flags);
  if (!range) return fail_input(range.error().message);
  auto endpoint = dial_endpoint(flags, *target);
  if (!endpoint) return fail_input(endpoint.error().message);

  const Side us = flags.dial.role == "lync" ? Side::lync : Side::bems;
  auto store = load_store_or_report(flags.dial.store, side_name(us));
  if (!store) return report::kExitBadInput;
  auto credentials = credentials_from(*store);
  if (!credentials)
    return fail_input(
        "load: " + side_name(us) +
        " has no certificate with its private key to present: " + why_no_credentials(*store));

  tls::ClientOptions client;
  client.host = target->host;
  client.port = target->port;
  // RFC 6066: SNI carries host names only, never address literals.
  client.sni = !flags.dial.sni.empty()
                   ? flags.dial.sni
                   : (is_ip_literal(target->host) ? std::string() : target->host);
  client.min_version = range->first;
  client.max_version = range->second;
  client.connect_timeout = milliseconds(flags.timeout_seconds);
  client.handshake_timeout = milliseconds(flags.timeout_seconds);
  client.verdict_wait = milliseconds(flags.verdict_wait_seconds);
  client.credentials = credentials;
  client.trust = trust_from(*store);
  // A load run measures handshakes; the staple is connect's business.
  client.request_ocsp_staple = false;
  auto context = tls::ClientContext::create(client, flags.resumption == "on");
  if (!context) return fail_input("load: " + context.error().message);

  load::LoadSettings settings;
  settings.endpoint = *endpoint;
  settings.connections = flags.connections;
  if (flags.rate > 0) settings.rate = flags.rate;
  if (flags.duration_seconds > 0)
    settings.duration = std::chrono::duration<double>(flags.duration_seconds);
  if (flags.count > 0) settings.count = flags.count;
  settings.threads = flags.threads;
  settings.resumption = flags.resumption == "on";
  // As connect: --expect-name, else the SNI sent, else the host dialled.
  const std::string expected = !flags.dial.expect_name.empty() ? flags.dial.expect_name
                               : !flags.dial.sni.empty()       ? flags.dial.sni
                                                               : target->host;
  if (flags.sip) {
    load::SipSettings sip_settings;
    sip_settings.target_uri =
        "sip:" + sip::uri_host(expected) + ":" + std::to_string(target->port) + ";transport=tls";
    // We speak as the trusted application: From names our certificate's CN.
    const std::string& cn = credentials->leaf.info().common_name;
    sip_settings.from_uri = cn.empty() ? "sip:mtlsprobe.invalid" : "sip:" + cn;
    sip_settings.timeout = milliseconds(flags.timeout_seconds);
    settings.sip = sip_settings;
  }
  settings.diagnosis.us = us;
  settings.diagnosis.ours = &*store;
  settings.diagnosis.expected_name = expected;

  const bool show = flags.progress || isatty(STDERR_FILENO) != 0;
  load::LoadResult result = run_with_progress(settings, *context, show);

  load::LoadDescription described;
  described.target = flags.target;
  described.address =
      endpoint->address().is_v6()
          ? "[" + endpoint->address().to_string() + "]:" + std::to_string(endpoint->port())
          : endpoint->address().to_string() + ":" + std::to_string(endpoint->port());
  described.settings = &settings;
  described.tls_versions = range->first == range->second
                               ? tls::to_string(range->first)
                               : tls::to_string(range->first) + "-" + tls::to_string(range->second);
  if (report_format(flags.report) == report::Format::prometheus) {
    std::string text = load::load_exposition(result, described);
    if (flags.report.output.empty()) {
      std::cout << text << std::flush;
    } else if (auto written = write_file_atomically(flags.report.output, text); !written) {
      return fail_input(written.error().message);
    }
    return result.failed > 0 ? report::kExitFail : report::kExitPass;
  }
  report::Report report = start_report("load");
  load::fill_load_report(report, result, described);
  return emit_report(report, flags.report);
}

}  // namespace

void add_load_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<LoadFlags>();
  auto* command = app.add_subcommand(
      "load",
      "Live: many mutual-TLS handshakes against one endpoint, as a closed loop (--connections) or "
      "at a fixed rate (--rate), bounded by --duration or --count; reports handshakes per second, "
      "latency per phase and failures by finding id (as `connect` names them).\n"
      "Example: mtlsprobe load lyncpool.example.com:5061 --store bems-store --duration 30");
  command->add_option("target", flags->target, "HOST[:PORT] of the peer (port 5061 by default)")
      ->required();
  command
      ->add_option("--connections", flags->connections,
                   "Connections at once (closed loop); with --rate, the most in flight")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
      ->capture_default_str();
  command->add_option("--rate", flags->rate, "Start this many handshakes per second (open loop)")
      ->check(CLI::PositiveNumber);
  command->add_option("--duration", flags->duration_seconds, "Run for this many seconds")
      ->check(CLI::PositiveNumber);
  command->add_option("--count", flags->count, "Run this many handshakes")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
  command->add_option("--threads", flags->threads, "Worker threads (default: the core count)")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  command->add_flag("--tls1.2", flags->tls12, "TLS 1.2 only");
  command->add_flag("--tls1.3", flags->tls13, "TLS 1.3 only");
  command->add_option("--tls-version", flags->tls_version, "TLS version only: 1.2 or 1.3");
  command
      ->add_option("--resumption", flags->resumption,
                   "Resume the session the server offered on the last handshake (abbreviated "
                   "handshakes)")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  command->add_flag("--sip", flags->sip,
                    "Send one SIP OPTIONS per connection and wait for its final answer");
  add_dial_flags(command, flags->dial);
  command
      ->add_option("--timeout", flags->timeout_seconds,
                   "Deadline of each phase (TCP, TLS, SIP) in seconds")
      ->check(CLI::Range(0.1, 300.0))
      ->capture_default_str();
  command
      ->add_option("--verdict-wait", flags->verdict_wait_seconds,
                   "Seconds to wait at the close for the server's close_notify, or for its TLS 1.3 "
                   "verdict on our certificate (an alert)")
      ->check(CLI::Range(0.0, 30.0))
      ->capture_default_str();
  command->add_flag("--progress", flags->progress,
                    "A progress line on stderr every second (default: when stderr is a terminal)");
  add_report_flags(command, flags->report);
  command->callback([flags, &action] { action = [flags] { return run_load_command(*flags); }; });
}

}  // namespace probe
