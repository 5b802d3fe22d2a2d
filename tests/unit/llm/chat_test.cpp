// Chat: each template family's rendering of a two-turn conversation, exactly as its Jinja
// template writes it; family detection from template texts (and from a real GGUF's); special-token
// parsing of template markup; the chat session on aidreams260K (fallback template): turns reuse
// the KV cache, reset empties it, a full context is a message.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "llm/chat.h"
#include "llm/loader.h"
#include "llm/sampler.h"
#include "test_util.h"

using namespace bf::llm;

namespace {

const ChatMessage kConversation[] = {
    {"system", "You are helpful."},
    {"user", "Hello"},
    {"assistant", "Hi there!"},
    {"user", "How are you?"},
};

std::string render(ChatTemplate t, const char *bos, const char *eos, bool with_system = true) {
    ChatFormat f;
    f.family = t;
    f.bos = bos;
    f.eos = eos;
    const ChatMessage *m = with_system ? kConversation : kConversation + 1;
    return render_chat(f, m, with_system ? 4 : 3, true);
}

TEST(ChatTemplate, ChatML) {
    EXPECT_EQ(render(ChatTemplate::kChatML, "", ""),
              "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
              "<|im_start|>assistant\nHi there!<|im_end|>\n<|im_start|>user\nHow are you?<|im_end|>\n"
              "<|im_start|>assistant\n");
}

TEST(ChatTemplate, Llama2) {
    EXPECT_EQ(render(ChatTemplate::kLlama2, "<s>", "</s>"),
              "<s>[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHello [/INST] Hi there! </s>"
              "<s>[INST] How are you? [/INST]");
    EXPECT_EQ(render(ChatTemplate::kLlama2, "<s>", "</s>", false),
              "<s>[INST] Hello [/INST] Hi there! </s><s>[INST] How are you? [/INST]");
}

TEST(ChatTemplate, Llama3) {
    EXPECT_EQ(render(ChatTemplate::kLlama3, "<|begin_of_text|>", "<|eot_id|>"),
              "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\nHi there!<|eot_id|>"
              "<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplate, Zephyr) {
    EXPECT_EQ(render(ChatTemplate::kZephyr, "<s>", "</s>"),
              "<|system|>\nYou are helpful.</s>\n<|user|>\nHello</s>\n<|assistant|>\nHi there!</s>\n"
              "<|user|>\nHow are you?</s>\n<|assistant|>\n");
}

TEST(ChatTemplate, Phi3) {
    // The template in ggml-vocab-phi-3.gguf renders no system message.
    const std::string want =
        "<s><|user|>\nHello<|end|>\n<|assistant|>\nHi there!<|end|>\n<|user|>\nHow are you?<|end|>\n<|assistant|>\n";
    EXPECT_EQ(render(ChatTemplate::kPhi3, "<s>", "<|endoftext|>"), want);
    EXPECT_EQ(render(ChatTemplate::kPhi3, "<s>", "<|endoftext|>", false), want);
}

TEST(ChatTemplate, Fallback) {
    EXPECT_EQ(render(ChatTemplate::kFallback, "<s>", "</s>"),
              "You are helpful.\nUser: Hello\nAssistant: Hi there!\nUser: How are you?\nAssistant:");
}

// A session feeds turn texts and the model's reply in between: together they must be the
// template's rendering of the conversation (the reply as a model writes it: SPM-style leading
// space where the template puts a space before it).
TEST(ChatTemplate, TurnTextsConcatenateToTheRendering) {
    const ChatTemplate all[] = {ChatTemplate::kChatML, ChatTemplate::kLlama2, ChatTemplate::kLlama3,
                                ChatTemplate::kZephyr, ChatTemplate::kPhi3, ChatTemplate::kFallback};
    for (ChatTemplate t : all) {
        ChatFormat f;
        f.family = t;
        const bool spaced = t == ChatTemplate::kLlama2 || t == ChatTemplate::kFallback;
        const std::string session = chat_turn_text(f, "Hello", true) + (spaced ? " Hi there!" : "Hi there!") +
                                    chat_turn_text(f, "How are you?", false);
        EXPECT_EQ(session, render_chat(f, kConversation + 1, 3, true)) << chat_template_name(t);
    }
}

TEST(ChatTemplate, Detect) {
    EXPECT_EQ(detect_chat_template(""), ChatTemplate::kFallback);
    EXPECT_EQ(detect_chat_template("{{ messages }}"), ChatTemplate::kFallback);
    EXPECT_EQ(detect_chat_template("{{'<|im_start|>' + message['role'] + '\n'}}"), ChatTemplate::kChatML);
    EXPECT_EQ(detect_chat_template("{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"),
              ChatTemplate::kLlama2);
    EXPECT_EQ(detect_chat_template("'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"),
              ChatTemplate::kLlama3);
    EXPECT_EQ(detect_chat_template("{{ '<|user|>\n' + message['content'] + eos_token }}"), ChatTemplate::kZephyr);
    EXPECT_EQ(detect_chat_template("{{ '<|user|>\n' + message['content'] + '</s>' }}"), ChatTemplate::kZephyr);
    EXPECT_EQ(detect_chat_template("{{'<|user|>' + '\n' + message['content'] + '<|end|>'}}"), ChatTemplate::kPhi3);
}

TEST(ChatTemplate, DetectFromPhi3Gguf) {
    const std::string image = llmtest::read_text(llmtest::shared_path("tokenizers/ggml-vocab-phi-3.gguf"));
    ASSERT_FALSE(image.empty());
    gguf::File f;
    std::string err;
    ASSERT_TRUE(f.parse(reinterpret_cast<const uint8_t *>(image.data()), image.size(), err)) << err;
    std::string_view jinja;
    ASSERT_TRUE(f.get_string("tokenizer.chat_template", jinja));
    EXPECT_EQ(detect_chat_template(jinja), ChatTemplate::kPhi3);
}

// Template markup becomes special ids only when asked; user text never gets them by default.
TEST(ChatSpecial, ControlTokensParsedOnRequest) {
    const std::string image = llmtest::read_text(llmtest::shared_path("tokenizers/ggml-vocab-llama-spm.gguf"));
    ASSERT_FALSE(image.empty());
    gguf::File f;
    Vocab v;
    std::string err;
    ASSERT_TRUE(f.parse(reinterpret_cast<const uint8_t *>(image.data()), image.size(), err)) << err;
    ASSERT_TRUE(load_vocab(f, v, err)) << err;
    ASSERT_GE(v.bos(), 0);
    ASSERT_GE(v.eos(), 0);
    std::vector<int> plain, special, hi;
    v.encode("<s>Hi</s>", plain);
    v.encode("<s>Hi</s>", special, true);
    v.encode("Hi", hi);
    for (int id : plain) EXPECT_TRUE(id != v.bos() && id != v.eos());
    std::vector<int> want = {v.bos()};
    std::vector<int> hi_after_special;
    v.encode("Hi", hi_after_special);  // the space prefix follows a special token, as at the start
    want.insert(want.end(), hi_after_special.begin(), hi_after_special.end());
    want.push_back(v.eos());
    EXPECT_EQ(special, want);

    Codec c;
    c.vocab = &v;
    // A template that writes bos_token gets one BOS, not two.
    const std::vector<int> ids = c.encode("<s>Hi", true, true);
    ASSERT_GE(ids.size(), 2u);
    EXPECT_EQ(ids[0], v.bos());
    EXPECT_NE(ids[1], v.bos());
}

// A Phi-3 turn as the session encodes it: the template's markers are their own tokens, in order.
TEST(ChatSpecial, Phi3TurnMarkup) {
    const std::string image = llmtest::read_text(llmtest::shared_path("tokenizers/ggml-vocab-phi-3.gguf"));
    ASSERT_FALSE(image.empty());
    gguf::File f;
    Vocab v;
    std::string err;
    ASSERT_TRUE(f.parse(reinterpret_cast<const uint8_t *>(image.data()), image.size(), err)) << err;
    ASSERT_TRUE(load_vocab(f, v, err)) << err;
    ChatFormat fmt;
    fmt.family = ChatTemplate::kPhi3;
    fmt.bos = std::string(v.text(v.bos()));
    Codec c;
    c.vocab = &v;
    const std::vector<int> ids = c.encode(chat_turn_text(fmt, "Hello", true), true, true);
    const int markers[] = {v.bos(), v.find("<|user|>"), v.find("<|end|>"), v.find("<|assistant|>")};
    size_t at = 0;
    for (int m : markers) {
        ASSERT_GE(m, 0);
        while (at < ids.size() && ids[at] != m) at++;
        ASSERT_LT(at, ids.size()) << "marker " << m << " missing or out of order";
    }
    EXPECT_EQ(std::count(ids.begin(), ids.end(), v.bos()), 1);
    EXPECT_EQ(ids[0], v.bos());
}

struct Session : ::testing::Test {
    LoadedModel lm;
    ChatSession chat;
    std::string note, err;
    void open(int ctx) {
        LoadOptions o;
        o.ctx = ctx;
        ASSERT_TRUE(load(llmtest::shared_path("gguf/aidreams260K-f32.gguf"), "", lm, err, o)) << err;
        ASSERT_TRUE(chat.init(lm, note, err)) << err;
    }
};

TEST_F(Session, TurnsReuseTheCacheAndResetEmptiesIt) {
    open(0);
    EXPECT_EQ(chat.format().family, ChatTemplate::kFallback);
    EXPECT_NE(note.find("fallback"), std::string::npos) << note;
    Sampler greedy(lm.model.config.vocab_size, 0.0f, 0.9f, 1);
    std::string r1, r2, again;
    ASSERT_TRUE(chat.turn("Hello", greedy, 8, r1, err)) << err;
    const int n1 = chat.last_prompt_tokens();
    const int p1 = chat.positions();
    EXPECT_EQ(n1, int(lm.codec().encode(chat_turn_text(chat.format(), "Hello", true), true, true).size()));
    // Every sampled token but the last (end of turn, or the step limit's) is in the cache.
    EXPECT_EQ(p1, n1 + chat.last_generated() - 1);

    ASSERT_TRUE(chat.turn("Tell me more", greedy, 8, r2, err)) << err;
    const int n2 = int(lm.codec().encode(chat_turn_text(chat.format(), "Tell me more", false), false, true).size());
    // Only the new text (plus the first reply's last token if it was not the end of turn) ran.
    EXPECT_TRUE(chat.last_prompt_tokens() == n2 || chat.last_prompt_tokens() == n2 + 1) << chat.last_prompt_tokens();
    EXPECT_LT(chat.last_prompt_tokens(), p1 + n2);
    EXPECT_EQ(chat.positions(), p1 + chat.last_prompt_tokens() + chat.last_generated() - 1);

    chat.reset();
    EXPECT_EQ(chat.positions(), 0);
    ASSERT_TRUE(chat.turn("Hello", greedy, 8, again, err)) << err;
    EXPECT_EQ(again, r1);  // the same start as a fresh session: nothing of the old turns is left
    EXPECT_EQ(chat.positions(), p1);
}

TEST_F(Session, FullContextIsAMessage) {
    open(32);
    ASSERT_EQ(chat.context(), 32);
    Sampler greedy(lm.model.config.vocab_size, 0.0f, 0.9f, 1);
    std::string reply;
    const std::string longer(200, 'a');
    EXPECT_FALSE(chat.turn(longer, greedy, 8, reply, err));
    EXPECT_EQ(err, "chat: the context (32 positions) is full: /reset to start over");
    EXPECT_EQ(chat.positions(), 0);  // unchanged: a shorter turn still fits
    ASSERT_TRUE(chat.turn("Hi", greedy, 0, reply, err)) << err;  // no step limit: up to the context
    EXPECT_EQ(chat.positions(), 32);  // aidreams260K writes on without an end of turn
    EXPECT_FALSE(chat.turn("Hi", greedy, 8, reply, err));
    EXPECT_EQ(err, "chat: the context (32 positions) is full: /reset to start over");
    chat.reset();
    EXPECT_TRUE(chat.turn("Hi", greedy, 4, reply, err)) << err;
}

}  // namespace
