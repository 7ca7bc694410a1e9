// `mtlsprobe serve`: a mutual-TLS server in the Lync (or BEMS) role that
// requires and verifies a client certificate and prints one diagnosis per
// incoming handshake.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "probe/commands/commands.hpp"
#include "probe/commands/options.hpp"
#include "probe/commands/sip_options.hpp"
#include "probe/diagnosis/facts.hpp"
#include "probe/diagnosis/handshake.hpp"
#include "probe/diagnosis/handshake_facts.hpp"
#include "probe/exporter/handshake_counts.hpp"
#include "probe/online/checks.hpp"
#include "probe/online/endpoint.hpp"
#include "probe/online/ocsp_stapling.hpp"
#include "probe/rules/requirements.hpp"
#include "probe/rules/rules.hpp"
#include "report/prometheus.hpp"
#include "report/utf8.hpp"
#include "tls/alerts.hpp"
#include "tls/http_server.hpp"

namespace probe {
namespace {

struct ServeFlags {
  std::string listen = "0.0.0.0:5061";
  std::string role = "lync";
  StoreFlags store;
  std::string ca_list = "roots";
  bool once = false;
  bool no_revocation_check = false;
  std::size_t max_handshakes = 0;
  std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::string reject_with;
  std::string metrics_listen;
  LiveFlags live;
  StapleFlags staple;
  RevocationFlags revocation;
  bool fetch_untrusted_urls = false;
  SipServeFlags sip;
  ReportFlags report;
};

// Judgements wait for revocation servers (answers shared through the run's
// cache, a dead server's failure remembered), so a client that handshakes
// faster than they are judged would queue work without end: past
// kQueuedOverall waiting, handshakes are counted and not judged at all.
// A queued handshake's record is ~28 KB: 256 of them are ~7 MB.
constexpr std::size_t kQueuedOverall = 256;
// How long a judge waits for a revocation answer another judge is fetching
// (see judged_revocation). A live CRL server or OCSP responder, even across a
// WAN, answers well within it (at 100 ms, reports under a loaded test machine
// said "not asked" of a local one); a dead one then stalls the judges for
// this long instead of for its whole timeout.
constexpr std::chrono::milliseconds kJudgeWaitsForOthers{1000};

// The judgement of each handshake (diagnosis, online checks, the report) on
// threads of its own, so the handshake threads never wait for it: a bounded
// queue the handshake threads add to and the judges take from, in arrival
// order.
class Judges {
 public:
  using Job = std::function<void()>;

  explicit Judges(std::size_t threads) {
    for (std::size_t i = 0; i < std::max<std::size_t>(1, threads); ++i)
      workers_.emplace_back([this] { work(); });
  }
  ~Judges() { drop_and_join(); }
  Judges(const Judges&) = delete;
  Judges& operator=(const Judges&) = delete;

  // Queues `job` unless kQueuedOverall wait already (false: not queued).
  bool submit(Job job) {
    std::lock_guard lock(mutex_);
    if (ending_ != Ending::no || queue_.size() + running_ >= kQueuedOverall) return false;
    queue_.push_back(std::move(job));
    ready_.notify_one();
    return true;
  }

  std::size_t waiting() const {
    std::lock_guard lock(mutex_);
    return queue_.size() + running_;
  }

  // Judges what is queued, then ends (serve reached --once/--max-handshakes).
  void finish_and_join() { end(Ending::finish); }

  // Drops what is queued and not started (serve was told to stop); the
  // judgements under way end quickly, their fetches cancelled. Returns how
  // many were dropped.
  std::size_t drop_and_join() { return end(Ending::drop); }

 private:
  enum class Ending { no, finish, drop };

  std::size_t end(Ending how) {
    std::size_t dropped = 0;
    {
      std::lock_guard lock(mutex_);
      if (ending_ == Ending::no) ending_ = how;
      if (ending_ == Ending::drop) {
        dropped = queue_.size();
        queue_.clear();
      }
      ready_.notify_all();
    }
    for (auto& worker : workers_)
      if (worker.joinable()) worker.join();
    return dropped;
  }

  void work() {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return ending_ != Ending::no || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        ++running_;
      }
      job();
      std::lock_guard lock(mutex_);
      --running_;
    }
  }

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> queue_;
  std::size_t running_ = 0;
  Ending ending_ = Ending::no;
  std::vector<std::thread> workers_;
};

int run_serve(const ServeFlags& flags) {
  auto listen = parse_host_port(flags.listen, 5061);
  if (!listen) return fail_input("--listen: " + listen.error().message);
  auto range = tls_range(flags.live);
  if (!range) return fail_input(range.error().message);
  Side us = flags.role == "bems" ? Side::bems : Side::lync;
  auto store = load_store_or_report(flags.store, side_name(us));
  if (!store) return report::kExitBadInput;
  auto credentials = credentials_from(*store);
  if (!credentials)
    return fail_input("serve needs our certificate with its matching private key: " +
                      why_no_credentials(*store));
  if (!flags.reject_with.empty() && !tls::alert_code(flags.reject_with))
    return fail_input("--reject-with " + flags.reject_with +
                      ": not a TLS alert name (e.g. unknown_ca, bad_certificate)");
  auto sip = sip_server_config(flags.sip);
  if (!sip) return fail_input(sip.error().message);
  auto revocation = revocation_options(flags.revocation);
  if (!revocation) return fail_input(revocation.error().message);
  // Set by SIGINT/SIGTERM: queued judgements skip the network and a fetch in
  // progress ends, so serve stops promptly whatever is queued.
  auto stopping = std::make_shared<std::atomic<bool>>(false);
  revocation->http.cancelled = stopping;

  tls::ServerOptions options;
  options.address = listen->host;
  options.port = listen->port;
  options.credentials = credentials;
  options.trust = trust_from(*store);
  options.min_version = range->first;
  options.max_version = range->second;
  options.handshake_timeout =
      std::chrono::milliseconds(static_cast<long long>(flags.live.timeout_seconds * 1000));
  options.reject_with = flags.reject_with;
  options.max_handshakes = flags.once ? 1 : flags.max_handshakes;
  options.threads = flags.threads;
  if (flags.ca_list == "none") {
    options.ca_list = tls::CaListMode::none;
  } else if (flags.ca_list == "roots") {
    options.ca_list = tls::CaListMode::roots;
  } else {
    auto loaded = tls::load_credential_file(flags.ca_list, std::nullopt);
    if (!loaded) return fail_input("--ca-list: " + loaded.error().message);
    options.ca_list = tls::CaListMode::certificates;
    options.ca_list_certificates = loaded->certificates;
  }

  LiveContext context;
  context.us = us;
  context.ours = &*store;
  if (!flags.live.pool.empty()) context.pool = flags.live.pool;
  context.instances = flags.live.instances;
  context.warn_days = flags.live.warn_days;
  // Our chain is the same in every handshake: judged once, not per client.
  context.own_chain = own_chain_of(credentials->leaf, credentials->chain, *store);
  // So is the store every client's chain is judged against.
  context.our_store = judged_against(*store);

  std::mutex output;
  auto log = [&output](const std::string& line) {
    std::lock_guard lock(output);
    // Lines carry the client's request-URI, headers and addresses.
    std::cerr << "mtlsprobe: " << report::one_line_printable(line) << "\n" << std::flush;
  };
  // A Front End checks the revocation of a client chain it trusts inside
  // the handshake and refuses a revoked certificate (certificate_revoked),
  // so the mock Lync does too. The answers come from the run's revocation
  // cache, which the judgements share: one fetch per CRL or OCSP answer
  // until its nextUpdate, not one per handshake.
  if (us == Side::lync && !flags.no_revocation_check) {
    // All of it within a third of the handshake's deadline, so an
    // unreachable CRL server costs an answer, not the handshake.
    const auto budget = options.handshake_timeout / 3;
    // At most this many handshake threads wait for revocation servers at
    // once; the others answer from the cache alone, so a responder that
    // never answers cannot hold every thread (and every other client).
    const std::size_t may_wait = std::max<std::size_t>(1, flags.threads - 1);
    auto waiting = std::make_shared<std::atomic<std::size_t>>(0);
    options.client_revocation_check =
        [in_handshake = *revocation, budget, may_wait, waiting,
         log](const std::vector<tls::Certificate>& chain) -> std::optional<tls::ClientRevocation> {
      const auto deadline = std::chrono::steady_clock::now() + budget;
      const bool may_fetch = waiting->fetch_add(1) < may_wait;
      struct Release {
        std::atomic<std::size_t>& count;
        ~Release() { --count; }
      } release{*waiting};
      tls::RevocationOptions asked = in_handshake;
      asked.cached_only = !may_fetch;
      for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
        if (chain[i].self_signed()) break;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        asked.total_timeout = std::max(left, std::chrono::milliseconds(0));
        asked.http.timeout = std::min(in_handshake.http.timeout, asked.total_timeout);
        const tls::RevocationStatus status = tls::check_revocation(chain[i], chain[i + 1], asked);
        if (status.kind != tls::RevocationStatus::revoked) continue;
        std::string why = "certificate revoked: " + chain[i].subject() + " is " +
                          revocation_text(status) + (status.url.empty() ? "" : " at " + status.url);
        log("refusing the client certificate in the handshake: " + why);
        return tls::ClientRevocation{static_cast<int>(i), why};
      }
      return std::nullopt;
    };
  }

  std::vector<tls::Certificate> own_chain;
  std::optional<tls::FetchedOcspResponse> staple;
  if (flags.staple.enabled()) {
    OfflineInputs own;
    own.bems = &*store;
    own_chain = side_chain(own, Side::bems);
    auto first = first_staple(flags.staple, own_chain, *revocation, log);
    if (!first) return fail_input(first.error().message);
    options.ocsp_staple = first->der;
    staple = std::move(*first);
  }
  HandshakeCounts counts;
  std::atomic<std::size_t> reported{0};
  std::atomic<std::size_t> not_judged{0};
  // One judge more than handshake threads: the one asking a dead revocation
  // server again (at most one at a time, see tls::RevocationCache) leaves the
  // others judging from its remembered failure.
  Judges judges(flags.threads + 1);
  std::unique_ptr<tls::HttpServer> metrics;
  if (!flags.metrics_listen.empty()) {
    auto where = parse_host_port(flags.metrics_listen, 0);
    if (!where || where->port == 0)
      return fail_input("--metrics-listen '" + flags.metrics_listen + "': give ADDRESS:PORT");
    std::vector<tls::HttpRoute> routes;
    routes.push_back(
        {"/metrics", [&counts, &not_judged, &judges](const tls::HttpServerRequest&) {
           report::Exposition judged;
           judged.family("mtlsprobe_serve_unjudged_total", report::MetricType::counter,
                         "Handshakes counted but not judged (no report): the judgement queue "
                         "was full.");
           judged.sample("mtlsprobe_serve_unjudged_total", {},
                         static_cast<double>(not_judged.load()));
           judged.family("mtlsprobe_serve_judgements_waiting", report::MetricType::gauge,
                         "Handshakes waiting for (or in) their judgement; at " +
                             std::to_string(kQueuedOverall) + " new ones are not judged.");
           judged.sample("mtlsprobe_serve_judgements_waiting", {},
                         static_cast<double>(judges.waiting()));
           return tls::HttpServerResponse{200,
                                          std::string(report::kPrometheusContentType),
                                          counts.exposition() + judged.text(),
                                          {}};
         }});
    auto started = tls::HttpServer::listen(where->host, where->port, std::move(routes));
    if (!started) return fail_input("--metrics-listen: " + started.error().message);
    metrics = std::move(*started);
  }
  const auto sip_wait = options.handshake_timeout;
  auto add_sip_side =
      [&](const tls::HandshakeRecord& record, const std::shared_ptr<SipSessionWatch>& watch,
          std::chrono::steady_clock::time_point handshake_done, report::Report& result) {
        std::optional<SipSessionFacts> facts;
        if (watch)
          facts = watch->wait_until(stopping->load() ? std::chrono::steady_clock::now()
                                                     : handshake_done + sip_wait);
        auto side = sip_serve_result(record, facts, *sip, sip_wait, result.findings);
        result.findings.insert(result.findings.end(), side.findings.begin(), side.findings.end());
        result.sections.push_back(std::move(side.section));
        result.facts["sip"] = std::move(side.facts);
      };
  int last_exit = report::kExitPass;
  int worst_exit = report::kExitPass;
  std::atomic<bool> queue_full{false};
  const auto untrusted_urls =
      flags.fetch_untrusted_urls ? UntrustedChainUrls::fetch : UntrustedChainUrls::skip;
  // A judge waits at most this long for what another judge is asking: a
  // revocation server that never answers then holds one judge for its
  // timeout while the others go on judging (each report saying so), instead
  // of every judge waiting and the queue overflowing with unjudged handshakes.
  tls::RevocationOptions judged_revocation = *revocation;
  judged_revocation.wait_for_others = kJudgeWaitsForOthers;
  auto judge = [&](const tls::HandshakeRecord& record,
                   const std::shared_ptr<SipSessionWatch>& sip_watch,
                   std::chrono::steady_clock::time_point handshake_done) {
    report::Report result = start_report("serve");
    result.sections.push_back(handshake_section("Handshake from " + record.peer_address, record));
    if (renders_facts(flags.report)) result.facts["handshake"] = handshake_json(record);
    LiveContext now_context = context;
    now_context.now = tls::Clock::now();
    result.findings = diagnose_handshake(record, now_context);
    const Side peer = us == Side::bems ? Side::lync : Side::bems;
    if (stopping->load()) {
      auto finding = revocation_finding(peer);
      skip(finding, flags.revocation.off
                        ? std::string("revocation checking is off (--no-revocation)")
                        : std::string("not checked: serve is stopping"));
      result.findings.push_back(std::move(finding));
    } else {
      check_peer_chain_online(record, peer, *store, flags.revocation, judged_revocation, result,
                              nullptr, untrusted_urls);
      point_to_online_owners(record, now_context, result.findings);
    }
    if (flags.sip.sip) add_sip_side(record, sip_watch, handshake_done, result);
    // One writer at a time: a report's lines never interleave with another's.
    std::lock_guard lock(output);
    last_exit = emit_report(std::move(result), flags.report);
    worst_exit = std::max(worst_exit, last_exit);
  };
  tls::HandshakeServer server(options, [&](const tls::HandshakeRecord& record,
                                           std::shared_ptr<tls::EstablishedConnection> connection) {
    if (record.error == tls::HandshakeError::peer_closed && record.peer_sent_nothing) {
      counts.count_port_check();
      log("connection from " + record.peer_address +
          " closed without sending anything (a TCP port check?); not counted");
      return;
    }
    ++reported;
    counts.count(record);
    // The SIP session starts at once; the judgement (with its bounded HTTP
    // fetches for revocation) runs on the judges' threads, so a slow CRL or
    // OCSP server never holds the SIP answer or the next handshake.
    // The report waits (up to the handshake timeout) for the client's first
    // SIP request or the session's end, so it shows the SIP side too.
    std::shared_ptr<SipSessionWatch> sip_watch;
    const auto handshake_done = std::chrono::steady_clock::now();
    if (flags.sip.sip && connection) {
      sip_watch = std::make_shared<SipSessionWatch>();
      start_sip_session(record, connection, *sip, log, sip_watch);
    }
    const bool queued = judges.submit(
        [&judge, record, sip_watch, handshake_done] { judge(record, sip_watch, handshake_done); });
    if (!queued) {
      ++not_judged;
      // Said once per overload, not once per handshake: a flood must not
      // flood the log too.
      if (!queue_full.exchange(true))
        log("judgement queue full (" + std::to_string(kQueuedOverall) +
            " waiting): handshakes from " + record.peer_address +
            " on are counted but not judged until it drains");
      return;
    }
    if (queue_full.exchange(false))
      log("judging again; " + std::to_string(not_judged.load()) +
          " handshake(s) not judged so far");
  });
  auto listening = server.listen();
  if (!listening) return fail_input(listening.error().message);
  std::cerr << "mtlsprobe: serving as " << side_name(us) << " on " << listen->host << ":"
            << server.port() << (flags.once ? " until the first handshake" : "")
            << (metrics ? "; metrics at " + metrics->url() + "/metrics" : "") << "; Ctrl-C stops\n"
            << std::flush;
  if (metrics) metrics->start();

  std::optional<StapleRefresher> refresher;
  if (staple && !flags.staple.responder.empty()) {
    refresher.emplace(
        *staple_responder_url(flags.staple, own_chain.front()), own_chain, *revocation,
        refresh_interval(staple->status),
        [&server](std::vector<std::uint8_t> der) { server.set_ocsp_staple(std::move(der)); }, log);
  }

  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    stopping->store(true);
    server.stop();
  });
  std::thread signal_thread([&] { signals_io.run(); });
  server.run();
  signals_io.stop();
  signal_thread.join();
  // Told to stop: whatever waits is dropped (serve ends within a second);
  // at --once / --max-handshakes every handshake is reported.
  const std::size_t dropped = stopping->load() ? judges.drop_and_join() : 0;
  judges.finish_and_join();
  if (metrics) metrics->stop();
  std::cerr << "mtlsprobe: stopped after " << reported.load() << " handshake(s)"
            << (not_judged ? " (" + std::to_string(not_judged.load()) + " not judged)" : "")
            << (dropped ? "; " + std::to_string(dropped) +
                              " judgement(s) still queued were dropped at stop"
                        : "")
            << (server.connections_evicted()
                    ? "; " + std::to_string(server.connections_evicted()) +
                          " unfinished handshake(s) closed to make room for new clients"
                    : "")
            << "\n";
  return flags.once ? last_exit : worst_exit;
}

}  // namespace

void add_serve_command(CLI::App& app, Action& action) {
  auto flags = std::make_shared<ServeFlags>();
  auto* command = app.add_subcommand(
      "serve",
      "Live: listen as the Lync/Skype pool (or as BEMS with --role bems), require and verify a "
      "client "
      "certificate, and print a diagnosis of every incoming handshake.\n"
      "Example: mtlsprobe serve --listen 0.0.0.0:5061 --store lync-store --once");
  command->add_option("--listen", flags->listen, "ADDR:PORT to listen on ([::]:5061 for IPv6)")
      ->capture_default_str();
  command
      ->add_option("--role", flags->role,
                   "Our role: lync (BEMS connects in) or bems (Lync connects in)")
      ->check(CLI::IsMember({"bems", "lync"}))
      ->capture_default_str();
  add_store_flags(command, flags->store, "", "our endpoint");
  command
      ->add_option(
          "--ca-list", flags->ca_list,
          "Acceptable client-CA names we send: roots (our trusted roots), none (as Windows "
          "Server 2012 and later), or a PEM FILE of certificates whose names to send")
      ->capture_default_str();
  command->add_flag("--once", flags->once, "Exit after the first handshake, with its exit code");
  command->add_flag("--no-revocation-check", flags->no_revocation_check,
                    "As lync: accept a revoked client certificate (by default the revocation of a "
                    "trusted client chain is checked in the handshake, CRL/OCSP as --revocation "
                    "says, and a revoked one refused with certificate_revoked, as a Front End "
                    "does)");
  command->add_option("--max-handshakes", flags->max_handshakes,
                      "Exit after N handshakes (0: until Ctrl-C)");
  command
      ->add_option("--threads", flags->threads,
                   "Threads running handshakes, and one more judging them (default: the "
                   "number of cores)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  command->add_option("--reject-with", flags->reject_with,
                      "Lab: reject every client certificate with this TLS alert (e.g. unknown_ca)");
  command->add_option("--metrics-listen", flags->metrics_listen,
                      "Serve Prometheus metrics (handshakes by outcome and client certificate "
                      "subject) at http://ADDR:PORT/metrics");
  add_live_flags(command, flags->live);
  add_staple_flags(command, flags->staple);
  add_revocation_flags(command, flags->revocation);
  command
      ->add_flag("--fetch-untrusted-urls", flags->fetch_untrusted_urls,
                 "Lab: fetch the CRL, OCSP and caIssuers URLs of a client chain we did not trust "
                 "(by default they are not: a stranger chose them)")
      ->group("Revocation");
  add_sip_serve_flags(command, flags->sip);
  add_report_flags(command, flags->report);
  command->callback([flags, &action] { action = [flags] { return run_serve(*flags); }; });
}

}  // namespace probe
