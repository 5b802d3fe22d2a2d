// Chat templates and the chat session (chat.h). Each family's strings follow its reference Jinja
// template as Hugging Face renders it (trim_blocks and lstrip_blocks on), not llama.cpp's
// approximations where they differ (Llama 2's bos_token per user turn, TinyLlama's eos_token).
#include "chat.h"


#include <vector>

namespace bf::llm {
namespace {

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

// Jinja's trim / Python's str.strip() on ASCII whitespace (the templates apply it to content).
std::string_view trim(std::string_view s) {
    auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

std::string cat(std::initializer_list<std::string_view> parts) {
    std::string s;
    for (std::string_view p : parts) s.append(p.data(), p.size());
    return s;
}

}  // namespace

const char *chat_template_name(ChatTemplate t) {
    switch (t) {
    case ChatTemplate::kFallback: return "fallback";
    case ChatTemplate::kChatML: return "chatml";
    case ChatTemplate::kLlama2: return "llama2";
    case ChatTemplate::kLlama3: return "llama3";
    case ChatTemplate::kZephyr: return "zephyr";
    case ChatTemplate::kPhi3: return "phi3";
    }
    return "?";
}

// The markers that tell the families apart, in llama.cpp's order of tests: ChatML's before the
// others because Phi-3-style templates never use <|im_start|>, and Phi-3 (<|end|>) before
// Zephyr because both write <|user|>. TinyLlama's template writes eos_token, not a literal </s>.
ChatTemplate detect_chat_template(std::string_view j) {
    if (contains(j, "<|im_start|>")) return ChatTemplate::kChatML;
    if (contains(j, "[INST]")) return ChatTemplate::kLlama2;
    if (contains(j, "<|user|>") && contains(j, "<|end|>")) return ChatTemplate::kPhi3;
    if (contains(j, "<|user|>") && (contains(j, "</s>") || contains(j, "eos_token") || contains(j, "<|endoftext|>")))
        return ChatTemplate::kZephyr;
    if (contains(j, "<|start_header_id|>")) return ChatTemplate::kLlama3;
    return ChatTemplate::kFallback;
}

std::string format_turn(const ChatFormat &f, std::string_view role, std::string_view text, bool first) {
    const bool user = role == "user", assistant = role == "assistant";
    switch (f.family) {
    case ChatTemplate::kChatML:
        return cat({"<|im_start|>", role, "\n", text, "<|im_end|>\n"});
    case ChatTemplate::kLlama2:
        // Llama-2-chat: bos_token + '[INST] ' + content.strip() + ' [/INST]' for every user turn,
        // ' ' + content.strip() + ' ' + eos_token for a reply; the system message is merged.
        if (user) return cat({f.bos, "[INST] ", trim(text), " [/INST]"});
        if (assistant) return cat({" ", trim(text), " ", f.eos});
        return {};
    case ChatTemplate::kLlama3:
        return cat({first ? std::string_view(f.bos) : "", "<|start_header_id|>", role, "<|end_header_id|>\n\n",
                    trim(text), "<|eot_id|>"});
    case ChatTemplate::kZephyr:
        return cat({"<|", role, "|>\n", text, f.eos, "\n"});
    case ChatTemplate::kPhi3: {
        // Its template opens with bos_token and renders user and assistant messages only.
        const std::string_view bos = first ? std::string_view(f.bos) : "";
        if (user) return cat({bos, "<|user|>\n", text, "<|end|>\n<|assistant|>\n"});
        if (assistant) return cat({bos, text, "<|end|>\n"});
        return std::string(bos);
    }
    case ChatTemplate::kFallback:
        if (user) return cat({"User: ", text, "\n"});
        if (assistant) return cat({"Assistant: ", text, "\n"});
        return cat({text, "\n"});
    }
    return {};
}

std::string_view assistant_prefix(ChatTemplate t) {
    switch (t) {
    case ChatTemplate::kChatML: return "<|im_start|>assistant\n";
    case ChatTemplate::kLlama3: return "<|start_header_id|>assistant<|end_header_id|>\n\n";
    case ChatTemplate::kZephyr: return "<|assistant|>\n";
    case ChatTemplate::kFallback: return "Assistant:";
    case ChatTemplate::kLlama2:
    case ChatTemplate::kPhi3: return "";
    }
    return "";
}

std::string assistant_close(const ChatFormat &f) {
    switch (f.family) {
    case ChatTemplate::kChatML: return "<|im_end|>\n";
    case ChatTemplate::kLlama2: return " " + f.eos;
    case ChatTemplate::kLlama3: return "<|eot_id|>";
    case ChatTemplate::kZephyr: return f.eos + "\n";
    case ChatTemplate::kPhi3: return "<|end|>\n";
    case ChatTemplate::kFallback: return "\n";
    }
    return {};
}

std::string render_chat(const ChatFormat &f, const ChatMessage *msgs, size_t n, bool add_assistant) {
    std::string out, system;
    for (size_t i = 0; i < n; i++) {
        std::string_view content = msgs[i].content;
        std::string merged;
        if (f.family == ChatTemplate::kLlama2) {
            // Llama-2-chat puts messages[0]'s system text in front of the first user message.
            if (i == 0 && msgs[i].role == "system") {
                system = cat({"<<SYS>>\n", content, "\n<</SYS>>\n\n"});
                continue;
            }
            if (!system.empty() && msgs[i].role == "user") {
                merged = system + std::string(content);
                content = merged;
                system.clear();
            }
        }
        out += format_turn(f, msgs[i].role, content, i == 0);
    }
    if (add_assistant) out += assistant_prefix(f.family);
    return out;
}

std::string chat_turn_text(const ChatFormat &f, std::string_view user, bool first) {
    std::string s = first ? std::string() : assistant_close(f);
    s += format_turn(f, "user", user, first);
    s += assistant_prefix(f.family);
    return s;
}

// ---- the session ----

bool ChatSession::init(const LoadedModel &lm, std::string &note, std::string &err) {
    model_ = nullptr;
    fmt_ = ChatFormat{};
    codec_ = lm.codec();
    std::string_view jinja;
    if (!lm.has_vocab) {
        note = "chat: a llama2.c checkpoint has no chat template: using the fallback format (User: ... / Assistant:)";
    } else if (!lm.gguf.get_string("tokenizer.chat_template", jinja) || jinja.empty()) {
        note = "chat: the model has no tokenizer.chat_template: using the fallback format (User: ... / Assistant:)";
    } else {
        fmt_.family = detect_chat_template(jinja);
        note = fmt_.family == ChatTemplate::kFallback
                   ? "chat: the model's chat template is not chatml, llama2, llama3, zephyr or phi3: using the "
                     "fallback format (User: ... / Assistant:)"
                   : std::string("chat: template ") + chat_template_name(fmt_.family);
    }
    if (lm.has_vocab) {
        const Vocab &v = lm.vocab;
        if (v.bos() >= 0) fmt_.bos = std::string(v.text(v.bos()));
        if (v.eos() >= 0) fmt_.eos = std::string(v.text(v.eos()));
    }
    if (!state_.init(lm.model.config, err)) return false;
    model_ = &lm.model;
    reset();
    return true;
}

void ChatSession::reset() {
    // The cache rows past pos_ are never read (attention looks at 0..pos), so no clearing.
    pos_ = 0;
    turns_ = 0;
    pending_ = -1;
    last_prompt_ = last_generated_ = 0;
}

bool ChatSession::turn(std::string_view user, Sampler &sampler, int max_steps, std::string &reply, std::string &err,
                       const GenerateHooks *hooks) {
    reply.clear();
    if (!model_) {
        err = "chat: no session (init failed)";
        return false;
    }
    const Model &m = *model_;
    const int ctx = m.config.seq_len;
    if (sampler.vocab_size != m.config.vocab_size) {
        err = "chat: the sampler's vocabulary differs from the model's";
        return false;
    }
    // The template's own markup (<|im_start|>, </s>) must become its special tokens, so the
    // whole turn text is encoded with special parsing; BOS only at the start of a conversation
    // and not twice when the template already wrote bos_token.
    const bool first = turns_ == 0;
    std::vector<int> ids;
    if (pending_ >= 0) ids.push_back(pending_);
    const std::vector<int> text_ids = codec_.encode(chat_turn_text(fmt_, user, first), first, true);
    ids.insert(ids.end(), text_ids.begin(), text_ids.end());
    if (ids.empty()) ids.push_back(0);  // a vocabulary without BOS, empty text
    const int n = int(ids.size());
    if (pos_ + n > ctx) {
        err = "chat: the context (" + std::to_string(ctx) + " positions) is full: /reset to start over";
        return false;
    }

    // The new positions only, kBatch at a time.
    float *logits = nullptr;
    for (int i = 0; i < n;) {
        const int k = n - i < RunState::kBatch ? n - i : RunState::kBatch;
        if (!forward_batch(m, state_, ids.data() + i, k, pos_ + i, false)) {
            err = "chat: the model refused the turn's tokens at positions " + std::to_string(pos_ + i) + "..";
            return false;
        }
        logits = state_.logits;
        i += k;
    }
    pos_ += n;
    pending_ = -1;
    turns_++;
    last_prompt_ = n;
    last_generated_ = 0;

    GenerateHooks none;
    const GenerateHooks &h = hooks ? *hooks : none;
    int prev = ids.back();
    const int steps = max_steps > 0 ? max_steps : ctx;
    for (int step = 0; step < steps; step++) {
        if (!check_logits(logits, m.config.vocab_size, pos_ - 1, err)) {
            err = "chat: " + err;
            return false;
        }
        const int next = sampler.sample(logits);
        last_generated_++;
        if (!emit_token(codec_, prev, next, reply, h)) break;  // end of turn: not fed
        // The reply's last token waits for the next turn (or the step limit) to enter the cache.
        pending_ = next;
        if (step + 1 == steps || pos_ >= ctx) break;
        logits = forward(m, state_, next, pos_);
        if (!logits) {
            err = "chat: token " + std::to_string(next) + " at position " + std::to_string(pos_) +
                  " is outside the model";
            return false;
        }
        pos_++;
        pending_ = -1;
        prev = next;
    }
    return true;
}

}  // namespace bf::llm
