// Chat: the prompt formats of the common chat-template families, recognised from a GGUF file's
// tokenizer.chat_template by substrings (as llama.cpp does: no Jinja interpreter), and a chat
// session that keeps the KV cache across turns so each turn runs the model over its new tokens
// only.
#pragma once
#include <stdint.h>

#include <string>
#include <string_view>

#include "codec.h"
#include "generate.h"
#include "loader.h"
#include "model.h"
#include "sampler.h"

namespace bf::llm {

enum class ChatTemplate : uint8_t {
    kFallback,  // no template, or one not recognised: "User: ...\nAssistant:"
    kChatML,    // <|im_start|>role\n...<|im_end|>\n (Qwen, SmolLM, OpenHermes...)
    kLlama2,    // <s>[INST] ... [/INST] reply </s> (Llama-2-chat, Mistral v0.1)
    kLlama3,    // <|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
    kZephyr,    // <|user|>\n...</s>\n (Zephyr, TinyLlama-chat)
    kPhi3,      // <|user|>\n...<|end|>\n<|assistant|>\n
};
const char *chat_template_name(ChatTemplate t);

// The family of a Jinja template's text; kFallback for an empty or unknown one.
ChatTemplate detect_chat_template(std::string_view jinja);

// A family with the texts its templates write for bos_token and eos_token (the vocabulary's).
struct ChatFormat {
    ChatTemplate family = ChatTemplate::kFallback;
    std::string bos = "<s>", eos = "</s>";
};

struct ChatMessage {
    std::string_view role;     // "system", "user" or "assistant"
    std::string_view content;
};

// One message as the family's template renders it (`first`: it is messages[0]). A Llama 2 system
// message renders nothing here: its template merges it into the next user message, which
// render_chat() does.
std::string format_turn(const ChatFormat &f, std::string_view role, std::string_view text, bool first);
// The generation prompt (add_generation_prompt): what precedes the assistant's reply. Empty for
// Llama 2 and Phi-3, whose user turn already ends with it.
std::string_view assistant_prefix(ChatTemplate t);
// What the template writes after an assistant reply's text (its end-of-turn).
std::string assistant_close(const ChatFormat &f);

// The whole conversation, plus the generation prompt if add_assistant: exactly the family's Jinja
// template's output for these messages.
std::string render_chat(const ChatFormat &f, const ChatMessage *msgs, size_t n, bool add_assistant);

// A session's next input text: the previous reply's end-of-turn (unless first), the user's
// message and the generation prompt.
std::string chat_turn_text(const ChatFormat &f, std::string_view user, bool first);

// A conversation with one model: the KV cache holds every turn so far.
class ChatSession {
public:
    // The model must have a GGUF vocabulary (false and err otherwise); the template comes from
    // its tokenizer.chat_template. `note` says which family was chosen (and why the fallback).
    bool init(const LoadedModel &lm, std::string &note, std::string &err);

    // One user turn: runs the model over the turn's new tokens, then samples up to max_steps
    // tokens (<= 0: until the context is full) until end of generation, each piece to
    // hooks->on_piece. False with err if the turn does not fit in the context (the session is
    // unchanged: /reset or a shorter turn) or the model refuses a token.
    bool turn(std::string_view user, Sampler &sampler, int max_steps, std::string &reply, std::string &err,
              const GenerateHooks *hooks = nullptr);
    // Forgets the conversation: the next turn starts at position 0.
    void reset();

    const ChatFormat &format() const { return fmt_; }
    int positions() const { return pos_; }         // KV cache positions in use
    int context() const { return model_ ? model_->config.seq_len : 0; }
    int last_prompt_tokens() const { return last_prompt_; }  // forward passes for the last turn's input
    int last_generated() const { return last_generated_; }

private:
    const Model *model_ = nullptr;
    Codec codec_;
    ChatFormat fmt_;
    RunState state_;
    int pos_ = 0;
    int turns_ = 0;
    int pending_ = -1;  // the reply's last token when it is printed but not yet in the cache
    int last_prompt_ = 0, last_generated_ = 0;
};

}  // namespace bf::llm
