// The REPL loop and its commands (repl.h). Every failure is a message; the loop only ends on
// quit/exit or the end of input.
#include "repl.h"

#include "boot_flow.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <memory>

#include "bareflow/pool.h"
#include "bareflow/profile.h"
#include "bareflow/vfs.h"
#include "jit/dispatch.h"
#include "jit/jit.h"
#include "bench/bench.h"
#include "llm/chat.h"
#include "llm/generate.h"
#include "llm/loader.h"
#include "llm/sampler.h"

namespace bf::app {
namespace {

// Every line fits the 80-column VGA text screen (79 characters: an 80th would wrap).
const char kHelp[] =
    "commands:\n"
    "  help                      this list\n"
    "  models [DIR]              *.bin and *.gguf files under DIR (default /MODELS)\n"
    "  load MODEL [TOKENIZER]    load a llama2.c checkpoint and its tokenizer\n"
    "  info                      the loaded model's dimensions, parameters and bytes\n"
    "  generate|gen [-n STEPS] PROMPT...   generate text from PROMPT\n"
    "  chat                      talk to the loaded model (/reset, /exit inside)\n"
    "  set temperature|topp|seed|steps|threads VALUE\n"
    "  show                      the current settings\n"
    "  profile                   profiler regions and the AOT-vs-JIT kernel table\n"
    "  jit                       the JIT's target CPU and which kernels are swapped\n"
    "  bench                     bench-llm on the loaded model (pp/tg tok/s)\n"
    "  quit|exit                 leave\n";

uint64_t tsc() {
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t(hi) << 32) | lo;
}

class Repl {
public:
    explicit Repl(const ReplOptions &o) : opt_(o), settings_(o.settings) {}
    int run();

private:
    void dispatch(const Command &c);
    void cmd_models(const Command &c);
    void cmd_load(const Command &c);
    void cmd_info();
    void cmd_generate(const Command &c);
    void cmd_set(const Command &c);
    void cmd_show();
    void cmd_jit();
    void cmd_chat();
    void chat_line(const std::string &line);
    void say(const char *fmt, ...) __attribute__((format(printf, 2, 3)));

    const ReplOptions &opt_;
    Settings settings_;
    std::unique_ptr<bf::llm::LoadedModel> cur_;
    // Chat mode (cmd_chat): every line is a user turn until /exit.
    std::unique_ptr<bf::llm::ChatSession> chat_;
    std::unique_ptr<bf::llm::Sampler> chat_sampler_;
    bool quit_ = false;
};

void Repl::say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(opt_.out, fmt, ap);
    va_end(ap);
}

int Repl::run() {
    say("BareFlow REPL: type help for the commands\n");
    std::string line;
    while (!quit_) {
        end_phase();  // the last command's records before the prompt, not after it
        if (opt_.prompt) say(chat_ ? "you> " : "bareflow> ");
        fflush(opt_.out);
        line.clear();
        size_t total = 0;
        int ch = EOF;
        while ((ch = getc(opt_.in)) != EOF && ch != '\n') {
            if (line.size() <= kMaxReplLine) line += char(ch);
            total++;
        }
        if (ch == EOF && total == 0) {
            say("\n");
            break;
        }
        if (total > kMaxReplLine) {
            say(BF_LINE_TOO_LONG, total);
            continue;
        }
        if (chat_) {
            chat_line(line);
            if (ch == EOF) break;
            continue;
        }
        const Command c = parse_command(line);
        if (!c.error.empty())
            say("%s\n", c.error.c_str());
        else if (!c.name.empty())
            dispatch(c);
        if (ch == EOF) break;
    }
    fflush(opt_.out);
    return 0;
}

void Repl::dispatch(const Command &c) {
    const std::string &n = c.name;
    if (n == "help") {
        say("%s", kHelp);
    } else if (n == "models") {
        cmd_models(c);
    } else if (n == "load") {
        cmd_load(c);
    } else if (n == "info") {
        cmd_info();
    } else if (n == "generate" || n == "gen") {
        cmd_generate(c);
    } else if (n == "chat") {
        cmd_chat();
    } else if (n == "set") {
        cmd_set(c);
    } else if (n == "show") {
        cmd_show();
    } else if (n == "profile") {
        fflush(opt_.out);
        bf::prof::report("repl");
        bf::jit::report();
        fflush(stdout);
    } else if (n == "jit") {
        cmd_jit();
    } else if (n == "bench") {
        if (!cur_) {
            say("bench: no model loaded: use load MODEL [TOKENIZER]\n");
        } else {
            fflush(opt_.out);
            const int r = run_bench_llm(*cur_, 0);  // prints on stdout, like the command
            fflush(stdout);
            say("bench: %s (status %d)\n", r == 0 ? "done" : "failed", r);
        }
    } else if (n == "quit" || n == "exit") {
        say("bye\n");
        quit_ = true;
    } else {
        std::string shown;
        for (size_t i = 0; i < n.size() && i < 40; i++) shown += n[i];
        say("unknown command '%s%s': type help\n", shown.c_str(), n.size() > 40 ? "..." : "");
    }
}

struct ListCtx {
    std::vector<std::pair<std::string, uint64_t>> files;
};

void Repl::cmd_models(const Command &c) {
    const std::string dir = c.args.empty() ? "/MODELS" : c.args[0];
    ListCtx ctx;
    const int r = bf::vfs::list(
        dir.c_str(),
        [](const char *name, bool is_dir, uint64_t size, void *p) {
            const size_t len = strlen(name);
            if (!is_dir && ((len > 4 && !strcasecmp(name + len - 4, ".bin")) ||
                            (len > 5 && !strcasecmp(name + len - 5, ".gguf"))))
                static_cast<ListCtx *>(p)->files.emplace_back(name, size);
        },
        &ctx);
    if (r != 0) {
        say("models: cannot list %s: %s\n", dir.c_str(), strerror(-r));
        return;
    }
    if (ctx.files.empty()) say("models: no .bin or .gguf files in %s\n", dir.c_str());
    for (auto &[name, size] : ctx.files)
        say("  %s/%s %llu bytes\n", dir == "/" ? "" : dir.c_str(), name.c_str(),
            static_cast<unsigned long long>(size));
}

void Repl::cmd_load(const Command &c) {
    if (c.args.empty() || c.args.size() > 2) {
        say("usage: load MODEL [TOKENIZER]\n");
        return;
    }
    // The old model goes first: keeping it while the new one loads needs room for both, and a
    // machine that fits one model at a time could never switch.
    const bool had_model = cur_ != nullptr;
    cur_.reset();
    auto l = std::make_unique<bf::llm::LoadedModel>();
    std::string err;
    // Without a TOKENIZER the one `show` lists (the last one given, else BAREFLOW.CFG's).
    if (!bf::llm::load(c.args[0], c.args.size() > 1 ? c.args[1] : "", *l, err, load_options(settings_))) {
        say("load: %s%s\n", err.c_str(), had_model ? " (the previous model was unloaded)" : "");
        return;
    }
    if (c.args.size() > 1 && c.args[1] != "-" && !l->has_vocab) settings_.tokenizer = c.args[1];
    cur_ = std::move(l);
    if (!cur_->note.empty()) say("%s\n", cur_->note.c_str());
    const auto &m = cur_->model.config;
    say("loaded %s (dim %d, %d layers, vocab %d) with tokenizer %s\n", cur_->model_path.c_str(), m.dim,
        m.n_layers, m.vocab_size, cur_->tok_path.c_str());
}

void Repl::cmd_info() {
    say("cores: %d found, %d online, %d in use (threads)\n", bf::pool::cores_found(), bf::pool::cores_online(),
        bf::pool::threads());
    if (!cur_) {
        say("info: no model loaded: use load MODEL [TOKENIZER]\n");
        return;
    }
    const auto &c = cur_->model.config;
    say("model: %s (%s)\n  dim %d, hidden_dim %d, layers %d, heads %d, kv_heads %d, head_size %d\n"
        "  vocab %d, seq_len %d, classifier %s, KV cache %s\n  parameters %llu, bytes %llu (file %zu)\n",
        cur_->model_path.c_str(), cur_->format, c.dim, c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads,
        c.head_size, c.vocab_size, c.seq_len, c.shared_classifier ? "shared" : "separate", c.kv_f16 ? "f16" : "f32",
        static_cast<unsigned long long>(cur_->model.n_params),
        static_cast<unsigned long long>(cur_->model.bytes_needed), cur_->file.size());
    say("  RAM: %.1f MiB of weights (the file, used in place) + %.1f MiB run state (KV cache)\n",
        double(cur_->file.size()) / 1048576.0, double(bf::llm::RunState::bytes_for(c)) / 1048576.0);
    if (cur_->gguf.n_tensors()) {  // GGUF: architecture, tensor types as stored, chat template
        std::string_view arch = "?", jinja;
        cur_->gguf.get_string("general.architecture", arch);
        std::string types;
        for (uint32_t t = 0; t < 64; t++) {
            size_t n = 0;
            for (size_t i = 0; i < cur_->gguf.n_tensors(); i++) n += cur_->gguf.tensor(i).type == t;
            if (n) types += std::string(types.empty() ? "" : ", ") + bf::llm::gguf::type_name(t) + " " + std::to_string(n);
        }
        const bool has_template = cur_->gguf.get_string("tokenizer.chat_template", jinja);
        say("  architecture %.*s; tensors %s\n  chat template: %s\n", int(arch.size() > 20 ? 20 : arch.size()),
            arch.data(), types.c_str(),
            has_template ? bf::llm::chat_template_name(bf::llm::detect_chat_template(jinja)) : "none in the file");
    }
    if (cur_->has_vocab)
        say("tokenizer: %s (%s, %d tokens)\n", cur_->tok_path.c_str(),
            cur_->vocab.kind() == bf::llm::VocabKind::kSpm ? "SentencePiece" : "byte-level BPE", cur_->vocab.n_tokens());
    else
        say("tokenizer: %s (%d tokens, max token length %d)\n", cur_->tok_path.c_str(), cur_->tok.vocab_size,
            cur_->tok.max_token_length);
}

void Repl::cmd_generate(const Command &c) {
    if (!cur_) {
        say("generate: no model loaded: use load MODEL [TOKENIZER]\n");
        return;
    }
    Settings s = settings_;
    size_t i = 0;
    if (i < c.args.size() && c.args[i] == "-n") {
        std::string err;
        if (i + 1 >= c.args.size() || !apply_setting("steps", c.args[i + 1], s, err)) {
            say("generate: -n needs a step count%s%s\n", err.empty() ? "" : ": ", err.c_str());
            return;
        }
        i += 2;
    }
    std::string prompt;
    for (; i < c.args.size(); i++) prompt += (prompt.empty() ? "" : " ") + c.args[i];
    const uint64_t seed = s.seed ? s.seed : (tsc() | 1);
    if (!s.seed && s.temperature > 0) say("(seed %llu from the TSC: set seed %llu repeats this)\n",
                                          static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
    bf::llm::Sampler sampler(cur_->model.config.vocab_size, s.temperature, s.topp, seed);
    bf::llm::GenerateHooks hooks;
    hooks.user = opt_.out;
    hooks.on_piece = [](void *u, const char *piece) {
        fputs(piece, static_cast<FILE *>(u));
        fflush(static_cast<FILE *>(u));
    };
    std::string text, err;
    bf::llm::GenerateStats st;
    if (!bf::llm::generate(cur_->model, cur_->codec(), sampler, prompt, s.steps, text, err, &hooks, &st)) {
        say("\ngenerate: %s\n", err.c_str());
        end_phase();
        return;
    }
    const double ms = st.prompt_ms + st.gen_ms;
    say("\n[%d prompt tokens, %d generated, %.1f ms, %.1f tok/s]\n", st.n_prompt_tokens, st.n_generated, ms,
        ms > 0 ? st.n_positions * 1000.0 / ms : 0.0);
    end_phase();  // what waited for the text (JIT swaps) follows its summary
}

void Repl::cmd_chat() {
    if (!cur_) {
        say("chat: no model loaded: use load MODEL [TOKENIZER] (a GGUF model with a chat template)\n");
        return;
    }
    auto session = std::make_unique<bf::llm::ChatSession>();
    std::string note, err;
    if (!session->init(*cur_, note, err)) {
        say("chat: %s\n", err.c_str());
        return;
    }
    const uint64_t seed = settings_.seed ? settings_.seed : (tsc() | 1);
    chat_sampler_ = std::make_unique<bf::llm::Sampler>(cur_->model.config.vocab_size, settings_.temperature,
                                                       settings_.topp, seed);
    chat_ = std::move(session);
    say("%s\nchat: %d positions of context, up to %d tokens a reply; /reset starts over, /exit leaves\n",
        note.c_str(), chat_->context(), settings_.steps);
}

// One line in chat mode: a command of the mode or the user's next turn.
void Repl::chat_line(const std::string &line) {
    for (char ch : line) {
        const unsigned char u = static_cast<unsigned char>(ch);
        if ((u < 0x20 && u != '\t') || u == 0x7f) {
            say("ignored: line has control bytes\n");
            return;
        }
    }
    if (line.find_first_not_of(" \t") == std::string::npos) return;
    if (line == "/exit") {
        chat_.reset();
        chat_sampler_.reset();
        say("chat: left chat mode\n");
        return;
    }
    if (line == "/reset") {
        chat_->reset();
        say("chat: conversation cleared\n");
        return;
    }
    bf::llm::GenerateHooks hooks;
    hooks.user = opt_.out;
    hooks.on_piece = [](void *u, const char *piece) {
        fputs(piece, static_cast<FILE *>(u));
        fflush(static_cast<FILE *>(u));
    };
    std::string reply, err;
    if (!chat_->turn(line, *chat_sampler_, settings_.steps, reply, err, &hooks)) {
        say("%s\n", err.c_str());
        end_phase();
        return;
    }
    say("\n[%d new tokens, %d generated, %d of %d positions]\n", chat_->last_prompt_tokens(),
        chat_->last_generated(), chat_->positions(), chat_->context());
    end_phase();
}

void Repl::cmd_set(const Command &c) {
    static const char *const keys[] = {"temperature", "topp", "seed", "steps", "threads"};
    if (c.args.size() != 2) {
        say("usage: set temperature|topp|seed|steps|threads VALUE\n");
        return;
    }
    bool known = false;
    for (const char *k : keys) known = known || c.args[0] == k;
    if (!known) {
        say("set: unknown setting '%.40s' (temperature, topp, seed, steps, threads)\n", c.args[0].c_str());
        return;
    }
    std::string err;
    if (!apply_setting(c.args[0], c.args[1], settings_, err)) {
        say("set %s: %s\n", c.args[0].c_str(), err.c_str());
    } else if (c.args[0] == "threads") {  // 0: every core online
        const int online = bf::pool::cores_online();
        const int used = bf::pool::set_threads(settings_.threads ? settings_.threads : online);
        say("threads = %d (%d core%s online)\n", used, online, online == 1 ? "" : "s");
    } else {
        say("%s = %s\n", c.args[0].c_str(), c.args[1].c_str());
    }
}

void Repl::cmd_show() {
    say("temperature = %g\ntopp = %g\nseed = %llu%s\nsteps = %d\nthreads = %d\n", double(settings_.temperature),
        double(settings_.topp), static_cast<unsigned long long>(settings_.seed),
        settings_.seed ? "" : " (from the TSC)", settings_.steps, bf::pool::threads());
    say("model = %s\ntokenizer = %s\n", cur_ ? cur_->model_path.c_str() : "(none loaded)",
        cur_ ? cur_->tok_path.c_str() : settings_.tokenizer.c_str());
    if (cur_ && cur_->has_vocab) say("(a llama2.c model loaded without a tokenizer gets %s)\n", settings_.tokenizer.c_str());
}

void Repl::cmd_jit() {
    say("jit: %s, target CPU %s, kernel bitcode %s\n", bf::jit::ready() ? "ready" : "not running",
        bf::jit::cpu_name().c_str(), bf::jit::bitcode_variant());
    const int n = bf::jit::slot_count();
    int swapped = 0;
    for (int i = 0; i < n; i++) {
        const bf::jit::Slot *s = bf::jit::slot_at(i);
        if (!s) continue;
        namespace J = bf::jit;
        const char *state = s->state == J::kJit ? "JIT" : s->state == J::kFailed ? "AOT (JIT failed)"
                          : s->state == J::kKept ? "AOT (kept)" : s->state == J::kTrial ? "trial"
                          : s->state == J::kCompiling ? "AOT (compiling on a spare core)" : "AOT";
        swapped += s->state == J::kJit;
        say("  %-28s %-16s %-10s calls %llu aot / %llu jit\n", s->name, state, s->state == J::kJit ? s->variant : "",
            static_cast<unsigned long long>(s->aot.calls), static_cast<unsigned long long>(s->jit.calls));
        if (s->decision.n && s->state != J::kTrial)
            say("    tried (median cycles/call): %s -> %s%s\n", J::medians_text(s->decision).c_str(),
                s->decision.c[s->decision.winner].name, s->decided_before ? ", measured on an earlier boot" : "");
    }
    say("jit: %d of %d kernel slots swapped to JIT code\n", swapped, n);
}

}  // namespace

int run_repl(const ReplOptions &opt) {
    Repl r(opt);
    return r.run();
}

}  // namespace bf::app
