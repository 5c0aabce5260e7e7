#!/usr/bin/python3
"""Export Vision Transformer test models (ONNX + reference input/output) for vitc.

Usage
-----
    /usr/bin/python3 tools/export_vit.py --out DIR [--large] [--only NAME[,NAME...]]
                                         [--verify | --no-verify] [--list]

Without --large it writes the small fixtures committed under tests/models
(each < 1 MiB).  With --large it writes the torchvision ViT-S/16 and ViT-B/16
models at opsets 13 and 17 (slow; ~90 / 350 MB each; not committed) and Swin-T
(swin_t, opset 17, 113 MB) and MaxViT-T (maxvit_t, opset 17, 126 MB); with --huge
ViT-L/16 (1.2 GB) and ViT-H/14 (2.5 GB, as ONNX external data: NAME.onnx.data).

For every model NAME it writes
    DIR/NAME.onnx         the exported graph (checked with onnx.checker)
    DIR/NAME.input.npy    float32 [B,3,H,W], seeded standard-normal input
    DIR/NAME.output.npy   float32 output torch computed for that input

Only Debian packages are used: python3-torch 1.13, python3-torchvision 0.14,
python3-onnx 1.12 and numpy.  No pretrained weights are downloaded: every
model gets seeded random weights, so the outputs are bit-for-bit reproducible
on one machine (and equal to ~1e-6 across machines).

Fixtures (image 32, patch 4, width 64, 2 layers, MLP 128, 10 classes)
---------------------------------------------------------------------
  vit_tv_tiny_op13 / _op17   torchvision.models.VisionTransformer, dynamic batch
  vit_tv_tiny_op13_b2        same, opset 13, STATIC batch 2 (no dynamic_axes)
  vit_hf_tiny_op13 / _op17   HuggingFace ViTModel style (separate q/k/v Linear,
                             view+permute heads, / sqrt(D), LN eps 1e-12)
  vit_timm_tiny_op13 / _op17 timm VisionTransformer style (packed qkv,
                             reshape+permute(2,0,3,1,4)+unbind, q*scale,
                             class_token=False, global_pool='avg' + fc_norm)
  vit_deit_tiny_op13         timm VisionTransformerDistilled (cls + dist token,
                             (head(cls) + head_dist(dist)) / 2)
  vit_clip_tiny_op13         OpenAI CLIP VisionTransformer (conv1 no bias,
                             class_embedding, ln_pre, sequence-first
                             nn.MultiheadAttention, QuickGELU, ln_post, @ proj)
  vit_clip_gelu_tanh_tiny_op13  same with explicit tanh-approximated GELU
  swin_tv_tiny_op17          torchvision SwinTransformer (image 40, width 16,
                             depths 2+2, heads 2/4, 4x4 windows: padded and
                             shifted windows in both stages; see tv_swin_tiny)
  maxvit_tv_tiny_op17        torchvision MaxVit (image 64, stem 16, two stages of
                             one block, 16/32 channels, 4x4 partitions; see
                             tv_maxvit_tiny)
  vit_map_tiny_op17          timm-style encoder with a SigLIP/big_vision MAP head:
                             learned probe, nn.MultiheadAttention(batch_first)
                             (probe, x, x), LN + MLP residual (cross-attention)
  vit_latent_pool_tiny_op17  the same encoder with a hand-written pooling head:
                             2 learned queries, separate q/k/v Linears, mean
All but vit_tv_tiny_op13_b2 have dynamic_axes {0: "batch"} on input/output and
are exported/referenced at batch 1.

Quirks handled here
-------------------
* torchvision zero-initialises the classifier head (and the class token and
  the attention biases), which makes every output 0 and hides bias bugs.
  After construction every all-zero parameter is re-drawn from N(0, 0.02);
  the classifier weight is re-drawn from N(0, 0.1) so logits are O(1).
  LayerNorm gammas/betas (ones/zeros by default) are perturbed
  (1 + 0.1*N, 0.1*N) so a swapped gamma/beta is caught by the tests.
* torch 1.13 nn.MultiheadAttention / TransformerEncoderLayer take a fused
  "fast path" (torch._native_multi_head_attention) in eval mode under
  torch.no_grad(), and that op cannot be exported to ONNX.  So the model is
  in eval() mode but both the export and the reference forward run with grad
  enabled (the parameters require grad, which disables the fast path); the
  reference output is .detach()ed.
* torch 1.13 exports nn.LayerNorm as one LayerNormalization node at opset >=17
  and as ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add at lower opsets.
  nn.GELU() (erf form) is always decomposed to Div/Erf/Add/Mul/Mul (there is
  no Gelu op before opset 20).
* torch.onnx.export is called with do_constant_folding=True, input name
  "input", output name "output".

After writing, each fixture is (unless --no-verify) re-evaluated by a tiny
numpy ONNX interpreter in this file and compared against the torch output
(max abs err must be < 1e-4), so a reference file that does not match its
graph is caught at export time.  For --large this is off unless --verify.
Everything is deterministic: re-running gives byte-identical files.
"""

import argparse
import math
import os
import sys
import zlib

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

torch.set_num_threads(1)

# Small fixture geometry.
IMG, PATCH, WIDTH, LAYERS, HEADS, MLP, CLASSES = 32, 4, 64, 2, 2, 128, 10


# ---------------------------------------------------------------------------
# HuggingFace transformers ViTModel / ViTForImageClassification, as built by
# transformers/models/vit/modeling_vit.py (eager attention, eval mode).
# ---------------------------------------------------------------------------
class HFViTEmbeddings(nn.Module):
    def __init__(self, d, patch, img):
        super().__init__()
        self.cls_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.patch_embeddings = nn.Conv2d(3, d, kernel_size=patch, stride=patch)
        n = (img // patch) ** 2
        self.position_embeddings = nn.Parameter(torch.randn(1, n + 1, d) * 0.02)
        self.dropout = nn.Dropout(0.0)

    def forward(self, pixel_values):
        batch_size = pixel_values.shape[0]
        # ViTPatchEmbeddings: projection(x).flatten(2).transpose(1, 2)
        embeddings = self.patch_embeddings(pixel_values).flatten(2).transpose(1, 2)
        cls_tokens = self.cls_token.expand(batch_size, -1, -1)
        embeddings = torch.cat((cls_tokens, embeddings), dim=1)
        embeddings = embeddings + self.position_embeddings
        return self.dropout(embeddings)


class HFViTSelfAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.num_attention_heads = heads
        self.attention_head_size = d // heads
        self.all_head_size = heads * self.attention_head_size
        self.query = nn.Linear(d, self.all_head_size, bias=True)
        self.key = nn.Linear(d, self.all_head_size, bias=True)
        self.value = nn.Linear(d, self.all_head_size, bias=True)
        self.dropout = nn.Dropout(0.0)

    def transpose_for_scores(self, x):
        new_x_shape = x.size()[:-1] + (self.num_attention_heads, self.attention_head_size)
        x = x.view(new_x_shape)
        return x.permute(0, 2, 1, 3)

    def forward(self, hidden_states):
        mixed_query_layer = self.query(hidden_states)
        key_layer = self.transpose_for_scores(self.key(hidden_states))
        value_layer = self.transpose_for_scores(self.value(hidden_states))
        query_layer = self.transpose_for_scores(mixed_query_layer)
        attention_scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
        attention_scores = attention_scores / math.sqrt(self.attention_head_size)
        attention_probs = nn.functional.softmax(attention_scores, dim=-1)
        attention_probs = self.dropout(attention_probs)
        context_layer = torch.matmul(attention_probs, value_layer)
        context_layer = context_layer.permute(0, 2, 1, 3).contiguous()
        new_context_layer_shape = context_layer.size()[:-2] + (self.all_head_size,)
        return context_layer.view(new_context_layer_shape)


class HFViTSelfOutput(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.dense = nn.Linear(d, d)
        self.dropout = nn.Dropout(0.0)

    def forward(self, hidden_states, input_tensor):
        # residual is added in ViTLayer, not here (as in HF)
        return self.dropout(self.dense(hidden_states))


class HFViTAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.attention = HFViTSelfAttention(d, heads)
        self.output = HFViTSelfOutput(d)

    def forward(self, hidden_states):
        return self.output(self.attention(hidden_states), hidden_states)


class HFViTIntermediate(nn.Module):
    def __init__(self, d, mlp):
        super().__init__()
        self.dense = nn.Linear(d, mlp)
        self.intermediate_act_fn = nn.GELU()  # ACT2FN["gelu"] == GELUActivation (erf)

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class HFViTOutput(nn.Module):
    def __init__(self, d, mlp):
        super().__init__()
        self.dense = nn.Linear(mlp, d)
        self.dropout = nn.Dropout(0.0)

    def forward(self, hidden_states, input_tensor):
        hidden_states = self.dropout(self.dense(hidden_states))
        return hidden_states + input_tensor


class HFViTLayer(nn.Module):
    def __init__(self, d, heads, mlp, eps):
        super().__init__()
        self.attention = HFViTAttention(d, heads)
        self.intermediate = HFViTIntermediate(d, mlp)
        self.output = HFViTOutput(d, mlp)
        self.layernorm_before = nn.LayerNorm(d, eps=eps)
        self.layernorm_after = nn.LayerNorm(d, eps=eps)

    def forward(self, hidden_states):
        attention_output = self.attention(self.layernorm_before(hidden_states))
        hidden_states = attention_output + hidden_states
        layer_output = self.layernorm_after(hidden_states)
        layer_output = self.intermediate(layer_output)
        return self.output(layer_output, hidden_states)


class HFViTForImageClassification(nn.Module):
    def __init__(self, img=IMG, patch=PATCH, d=WIDTH, layers=LAYERS, heads=HEADS,
                 mlp=MLP, classes=CLASSES, eps=1e-12):
        super().__init__()
        self.embeddings = HFViTEmbeddings(d, patch, img)
        self.layer = nn.ModuleList([HFViTLayer(d, heads, mlp, eps) for _ in range(layers)])
        self.layernorm = nn.LayerNorm(d, eps=eps)
        self.classifier = nn.Linear(d, classes)

    def forward(self, pixel_values):
        hidden_states = self.embeddings(pixel_values)
        for layer_module in self.layer:
            hidden_states = layer_module(hidden_states)
        sequence_output = self.layernorm(hidden_states)
        return self.classifier(sequence_output[:, 0, :])


# ---------------------------------------------------------------------------
# timm VisionTransformer / VisionTransformerDistilled, as built by
# timm/models/vision_transformer.py and deit.py (non-fused attention).
# ---------------------------------------------------------------------------
class TimmPatchEmbed(nn.Module):
    def __init__(self, img, patch, d):
        super().__init__()
        self.num_patches = (img // patch) ** 2
        self.proj = nn.Conv2d(3, d, kernel_size=patch, stride=patch, bias=True)
        self.norm = nn.Identity()

    def forward(self, x):
        x = self.proj(x)
        x = x.flatten(2).transpose(1, 2)  # NCHW -> NLC
        return self.norm(x)


class TimmAttention(nn.Module):
    def __init__(self, dim, num_heads, qkv_bias=True, use_unbind=True):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.use_unbind = use_unbind
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.q_norm = nn.Identity()
        self.k_norm = nn.Identity()
        self.attn_drop = nn.Dropout(0.0)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(0.0)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        if self.use_unbind:
            q, k, v = qkv.unbind(0)
        else:  # older timm / DeiT code
            q, k, v = qkv[0], qkv[1], qkv[2]
        q, k = self.q_norm(q), self.k_norm(k)
        q = q * self.scale
        attn = q @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        attn = self.attn_drop(attn)
        x = attn @ v
        x = x.transpose(1, 2).reshape(B, N, C)
        x = self.proj(x)
        return self.proj_drop(x)


class TimmMlp(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1 = nn.Linear(d, hidden)
        self.act = nn.GELU()
        self.drop1 = nn.Dropout(0.0)
        self.norm = nn.Identity()
        self.fc2 = nn.Linear(hidden, d)
        self.drop2 = nn.Dropout(0.0)

    def forward(self, x):
        x = self.drop1(self.act(self.fc1(x)))
        return self.drop2(self.fc2(self.norm(x)))


class TimmBlock(nn.Module):
    def __init__(self, d, heads, mlp, eps, use_unbind=True):
        super().__init__()
        self.norm1 = nn.LayerNorm(d, eps=eps)
        self.attn = TimmAttention(d, heads, use_unbind=use_unbind)
        self.ls1 = nn.Identity()
        self.drop_path1 = nn.Identity()
        self.norm2 = nn.LayerNorm(d, eps=eps)
        self.mlp = TimmMlp(d, mlp)
        self.ls2 = nn.Identity()
        self.drop_path2 = nn.Identity()

    def forward(self, x):
        x = x + self.drop_path1(self.ls1(self.attn(self.norm1(x))))
        x = x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))
        return x


class TimmVisionTransformer(nn.Module):
    """timm VisionTransformer(class_token=False, global_pool='avg').

    With global_pool='avg' timm sets use_fc_norm=True: self.norm is Identity and
    the LayerNorm is applied after pooling (fc_norm), then head.
    """

    def __init__(self, img=IMG, patch=PATCH, d=WIDTH, layers=LAYERS, heads=HEADS,
                 mlp=MLP, classes=CLASSES, eps=1e-6):
        super().__init__()
        self.num_prefix_tokens = 0
        self.patch_embed = TimmPatchEmbed(img, patch, d)
        self.pos_embed = nn.Parameter(torch.randn(1, self.patch_embed.num_patches, d) * 0.02)
        self.pos_drop = nn.Dropout(0.0)
        self.norm_pre = nn.Identity()
        self.blocks = nn.Sequential(*[TimmBlock(d, heads, mlp, eps) for _ in range(layers)])
        self.norm = nn.Identity()
        self.fc_norm = nn.LayerNorm(d, eps=eps)
        self.head_drop = nn.Dropout(0.0)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        x = self.patch_embed(x)
        x = x + self.pos_embed  # no_embed_class path with no prefix tokens
        x = self.pos_drop(x)
        x = self.norm_pre(x)
        x = self.blocks(x)
        x = self.norm(x)
        x = x[:, self.num_prefix_tokens:].mean(dim=1)
        x = self.fc_norm(x)
        x = self.head_drop(x)
        return self.head(x)


class DeiTDistilled(nn.Module):
    """timm VisionTransformerDistilled (deit_*_distilled_patch16_224), eval mode."""

    def __init__(self, img=IMG, patch=PATCH, d=WIDTH, layers=LAYERS, heads=HEADS,
                 mlp=MLP, classes=CLASSES, eps=1e-6):
        super().__init__()
        self.num_prefix_tokens = 2
        self.patch_embed = TimmPatchEmbed(img, patch, d)
        self.cls_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.dist_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pos_embed = nn.Parameter(
            torch.randn(1, self.patch_embed.num_patches + 2, d) * 0.02)
        self.pos_drop = nn.Dropout(0.0)
        self.blocks = nn.Sequential(
            *[TimmBlock(d, heads, mlp, eps, use_unbind=False) for _ in range(layers)])
        self.norm = nn.LayerNorm(d, eps=eps)
        self.head = nn.Linear(d, classes)
        self.head_dist = nn.Linear(d, classes)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat((
            self.cls_token.expand(x.shape[0], -1, -1),
            self.dist_token.expand(x.shape[0], -1, -1),
            x), dim=1)
        x = self.pos_drop(x + self.pos_embed)
        x = self.blocks(x)
        x = self.norm(x)
        x, x_dist = x[:, 0], x[:, 1]
        x = self.head(x)
        x_dist = self.head_dist(x_dist)
        return (x + x_dist) / 2


# ---------------------------------------------------------------------------
# Attention-pooling (MAP) heads: a learned query attends over the encoder's tokens (cross-attention).
# ---------------------------------------------------------------------------
class MAPHead(nn.Module):
    """SigLIP / big_vision MAP head, as HF's SiglipMultiheadAttentionPoolingHead: a learned probe [1, 1, C]
    expanded to the batch, nn.MultiheadAttention(batch_first=True)(probe, x, x) (query = probe, key = value =
    the tokens: torch splits in_proj into w_q and a packed w_kv), then LayerNorm + MLP residual on the pooled
    token."""

    def __init__(self, d, heads, mlp, eps):
        super().__init__()
        self.probe = nn.Parameter(torch.randn(1, 1, d))
        self.attention = nn.MultiheadAttention(d, heads, batch_first=True)
        self.layernorm = nn.LayerNorm(d, eps=eps)
        self.mlp = TimmMlp(d, mlp)

    def forward(self, x):
        probe = self.probe.expand(x.shape[0], -1, -1)
        x = self.attention(probe, x, x, need_weights=False)[0]
        x = x + self.mlp(self.layernorm(x))
        return x[:, 0]


class LatentPoolHead(nn.Module):
    """An attention-pooling head written by hand (HF style): `latents` learned queries [1, M, C] with their
    own q Linear, separate k and v Linears of the tokens, view + permute heads, scores / sqrt(D), softmax,
    P V, permute + reshape back, out-projection; then LayerNorm + MLP residual and the mean over the M
    pooled tokens (timm's AttentionPoolLatent with separate k/v and pool='avg')."""

    def __init__(self, d, heads, mlp, eps, latents=2):
        super().__init__()
        self.heads, self.hd = heads, d // heads
        self.latent = nn.Parameter(torch.randn(1, latents, d))
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.proj = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d, eps=eps)
        self.mlp = TimmMlp(d, mlp)

    def split_heads(self, t):
        return t.view(t.shape[0], t.shape[1], self.heads, self.hd).permute(0, 2, 1, 3)

    def forward(self, x):
        B = x.shape[0]
        q = self.split_heads(self.q(self.latent.expand(B, -1, -1)))
        k = self.split_heads(self.k(x))
        v = self.split_heads(self.v(x))
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd)
        o = torch.matmul(s.softmax(dim=-1), v).permute(0, 2, 1, 3).contiguous()
        o = self.proj(o.view(B, o.shape[1], self.heads * self.hd))
        o = o + self.mlp(self.norm(o))
        return o.mean(dim=1)


class MAPViT(nn.Module):
    """A timm-style encoder (no class token, learned position embedding, pre-norm blocks, final norm) whose
    head is an attention-pooling head (MAPHead, or LatentPoolHead with latent_pool), then a linear classifier."""

    def __init__(self, img=IMG, patch=PATCH, d=WIDTH, layers=LAYERS, heads=HEADS, mlp=MLP, classes=CLASSES,
                 eps=1e-6, latent_pool=False):
        super().__init__()
        self.patch_embed = TimmPatchEmbed(img, patch, d)
        self.pos_embed = nn.Parameter(torch.randn(1, self.patch_embed.num_patches, d) * 0.02)
        self.blocks = nn.Sequential(*[TimmBlock(d, heads, mlp, eps) for _ in range(layers)])
        self.norm = nn.LayerNorm(d, eps=eps)
        self.attn_pool = LatentPoolHead(d, heads, mlp, eps) if latent_pool else MAPHead(d, heads, mlp, eps)
        self.head = nn.Linear(d, classes)
        with torch.no_grad():
            self.head.weight.mul_(4.0)  # logits O(1), not O(0.3), so the 1e-4 tolerance tests more

    def forward(self, x):
        x = self.patch_embed(x) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(self.attn_pool(x))


# ---------------------------------------------------------------------------
# OpenAI CLIP VisionTransformer, as built by clip/model.py.
# ---------------------------------------------------------------------------
class CLIPLayerNorm(nn.LayerNorm):
    """Subclass torch's LayerNorm to handle fp16 (as in CLIP)."""

    def forward(self, x):
        orig_type = x.dtype
        ret = super().forward(x.type(torch.float32))
        return ret.type(orig_type)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class TanhGELU(nn.Module):
    """GELU, tanh approximation, written out (as in GPT-2 / BERT-TF ports)."""

    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class CLIPResidualAttentionBlock(nn.Module):
    def __init__(self, d_model, n_head, mlp, act):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, n_head)  # batch_first=False
        self.ln_1 = CLIPLayerNorm(d_model)
        from collections import OrderedDict
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(d_model, mlp)),
            ("gelu", act()),
            ("c_proj", nn.Linear(mlp, d_model)),
        ]))
        self.ln_2 = CLIPLayerNorm(d_model)
        self.attn_mask = None

    def attention(self, x):
        return self.attn(x, x, x, need_weights=False, attn_mask=self.attn_mask)[0]

    def forward(self, x):
        x = x + self.attention(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class CLIPTransformer(nn.Module):
    def __init__(self, width, layers, heads, mlp, act):
        super().__init__()
        self.resblocks = nn.Sequential(
            *[CLIPResidualAttentionBlock(width, heads, mlp, act) for _ in range(layers)])

    def forward(self, x):
        return self.resblocks(x)


class CLIPVisionTransformer(nn.Module):
    def __init__(self, img=IMG, patch=PATCH, width=WIDTH, layers=LAYERS, heads=HEADS,
                 mlp=MLP, output_dim=CLASSES, act=QuickGELU):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        scale = width ** -0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(
            scale * torch.randn((img // patch) ** 2 + 1, width))
        self.ln_pre = CLIPLayerNorm(width)
        self.transformer = CLIPTransformer(width, layers, heads, mlp, act)
        self.ln_post = CLIPLayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward(self, x):
        x = self.conv1(x)  # shape = [*, width, grid, grid]
        x = x.reshape(x.shape[0], x.shape[1], -1)  # shape = [*, width, grid ** 2]
        x = x.permute(0, 2, 1)  # shape = [*, grid ** 2, width]
        x = torch.cat([self.class_embedding.to(x.dtype) + torch.zeros(
            x.shape[0], 1, x.shape[-1], dtype=x.dtype, device=x.device), x], dim=1)
        x = x + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x)
        x = x.permute(1, 0, 2)  # NLD -> LND
        x = self.transformer(x)
        x = x.permute(1, 0, 2)  # LND -> NLD
        x = self.ln_post(x[:, 0, :])
        x = x @ self.proj
        return x


# ---------------------------------------------------------------------------
# Model table
# ---------------------------------------------------------------------------
def tv_tiny():
    return torchvision.models.VisionTransformer(
        image_size=IMG, patch_size=PATCH, num_layers=LAYERS, num_heads=HEADS,
        hidden_dim=WIDTH, mlp_dim=MLP, num_classes=CLASSES)


def tv_swin_tiny():
    """torchvision's SwinTransformer (the class of swin_t) scaled down: 40x40 images in 4x4 patches, width 16,
    two stages of 2 blocks (2 and 4 heads) with 4x4 windows. Stage 1 pads its 10x10 tokens to 12x12, stage 2
    its 5x5 to 8x8, and both shift their windows, so Pad, the shifted-window mask (ScatterND, Mod, Range ...)
    and the rolls (Slice + Concat) all occur. The head's weights (trunc_normal, std 0.02) are scaled by 20 so
    that the logits are O(1), not under 0.1, where a 1e-4 tolerance would test little."""
    from torchvision.models.swin_transformer import SwinTransformer
    m = SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4],
                        window_size=[4, 4], stochastic_depth_prob=0.0, num_classes=CLASSES)
    with torch.no_grad():
        m.head.weight.mul_(20.0)
    return m


def tv_maxvit_tiny():
    """torchvision's MaxVit (the class of maxvit_t) scaled down: 64x64 images, stem 16 channels, two stages of
    one block (16 and 32 channels, heads of 8), 4x4 partitions. Each block has the MBConv (pre-norm
    BatchNorm, depthwise Conv, squeeze-excitation with Sigmoid gating, AveragePool on the strided shortcut)
    and the block and grid attentions (relative-position bias; q k^T and P v as Einsum). BatchNorm
    statistics are drawn (mean N(0, 0.1), var 1 + U(0, 0.5)) so folding and the unfolded kernel see
    non-trivial values; the head's weights are scaled by 20 so that the logits are O(1)."""
    from torchvision.models.maxvit import MaxVit
    m = MaxVit(input_size=(64, 64), stem_channels=16, partition_size=4, block_channels=[16, 32],
               block_layers=[1, 1], head_dim=8, stochastic_depth_prob=0.0, num_classes=CLASSES)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.normal_(0, 0.1)
                mod.running_var.uniform_(1.0, 1.5)
        m.classifier[-1].weight.mul_(20.0)
    return m


def tv_vit_s16():
    return torchvision.models.VisionTransformer(
        image_size=224, patch_size=16, num_layers=12, num_heads=6,
        hidden_dim=384, mlp_dim=1536)


def tv_vit_b16():
    return torchvision.models.vit_b_16(weights=None)


def tv_vit_l16():
    return torchvision.models.vit_l_16(weights=None)


def tv_vit_h14():
    return torchvision.models.vit_h_14(weights=None)  # image 224: 16x16 patches of 14 pixels


# name -> (constructor, opset, batch, image size, dynamic batch)
SMALL = {
    "vit_tv_tiny_op13": (tv_tiny, 13, 1, IMG, True),
    "vit_tv_tiny_op17": (tv_tiny, 17, 1, IMG, True),
    "vit_tv_tiny_op13_b2": (tv_tiny, 13, 2, IMG, False),
    "vit_hf_tiny_op13": (HFViTForImageClassification, 13, 1, IMG, True),
    "vit_hf_tiny_op17": (HFViTForImageClassification, 17, 1, IMG, True),
    "vit_timm_tiny_op13": (TimmVisionTransformer, 13, 1, IMG, True),
    "vit_timm_tiny_op17": (TimmVisionTransformer, 17, 1, IMG, True),
    "vit_deit_tiny_op13": (DeiTDistilled, 13, 1, IMG, True),
    "vit_clip_tiny_op13": (CLIPVisionTransformer, 13, 1, IMG, True),
    "vit_clip_gelu_tanh_tiny_op13": (lambda: CLIPVisionTransformer(act=TanhGELU), 13, 1, IMG, True),
    "swin_tv_tiny_op17": (tv_swin_tiny, 17, 1, 40, True),
    "maxvit_tv_tiny_op17": (tv_maxvit_tiny, 17, 1, 64, True),
    "vit_map_tiny_op17": (MAPViT, 17, 1, IMG, True),
    "vit_latent_pool_tiny_op17": (lambda: MAPViT(latent_pool=True), 17, 1, IMG, True),
}

# Fixtures whose graphs use ops the numpy evaluator below lacks (Pad, ScatterND, Mod, Range, Where ...):
# checked by vitc against torch in the tests instead.
NO_NUMPY_CHECK = {"swin_tv_tiny_op17", "swin_t_op17", "maxvit_tv_tiny_op17", "maxvit_t_op17"}

LARGE = {
    "vit_s16_op13": (tv_vit_s16, 13, 1, 224, True),
    "vit_s16_op17": (tv_vit_s16, 17, 1, 224, True),
    "vit_b16_op13": (tv_vit_b16, 13, 1, 224, True),
    "vit_b16_op17": (tv_vit_b16, 17, 1, 224, True),
    "swin_t_op17": (lambda: torchvision.models.swin_t(weights=None), 17, 1, 224, True),
    "maxvit_t_op17": (lambda: torchvision.models.maxvit_t(weights=None), 17, 1, 224, True),
}

# --huge: ViT-L/16 (1.2 GB, weights inside the .onnx) and ViT-H/14 (2.5 GB: over protobuf's 2 GB limit, so
# written with ONNX external data, every initializer in one NAME.onnx.data beside NAME.onnx).
HUGE = {
    "vit_l16_op17": (tv_vit_l16, 17, 1, 224, True),
    "vit_h14_op17": (tv_vit_h14, 17, 1, 224, True),
}
EXTERNAL_DATA = {"vit_h14_op17"}

CLASSIFIER_NAMES = ("heads.head.weight", "classifier.weight", "head.weight",
                    "head_dist.weight")


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def randomize(model, seed):
    """Re-draw torch-default zero/one parameters so nothing is trivially 0."""
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm) and m.elementwise_affine:
                m.weight.add_(0.1 * torch.randn(m.weight.shape, generator=g))
                m.bias.add_(0.1 * torch.randn(m.bias.shape, generator=g))
        for pname, p in model.named_parameters():
            if pname in CLASSIFIER_NAMES and torch.count_nonzero(p) == 0:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif torch.count_nonzero(p) == 0:
                p.copy_(0.02 * torch.randn(p.shape, generator=g))


def build(name, spec):
    ctor, opset, batch, img, dynamic = spec
    # Twins (_op13/_op17/_b2) share weights and input stream: the op13 and op17
    # files get the same input, and row 0 of the batch-2 input is the batch-1
    # input, so their outputs can be compared with each other too.
    seed = seed_of(name.replace("_op13", "").replace("_op17", "").replace("_b2", ""))
    torch.manual_seed(seed)
    model = ctor()
    randomize(model, seed)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(True)  # keeps nn.MultiheadAttention off its fast path
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 3, img, img)).astype(np.float32)
    return model, x, opset, dynamic


def batch_outputs(name, model, x_np, batches, out_dir):
    """NAME.input_bB.npy and NAME.output_bB.npy for each extra batch B of a dynamic-batch export (seeded
    inputs, torch's outputs), for checking one dynamic-batch .so at several batches."""
    rng = np.random.default_rng(seed_of(name) + 17)
    for b in batches:
        xb = rng.standard_normal((b,) + x_np.shape[1:]).astype(np.float32)
        with torch.enable_grad():
            yb = model(torch.from_numpy(xb)).detach().numpy().astype(np.float32)
        np.save(os.path.join(out_dir, "%s.input_b%d.npy" % (name, b)), xb)
        np.save(os.path.join(out_dir, "%s.output_b%d.npy" % (name, b)), yb)


def export_external(model, x, path, opset, kw):
    """torch writes a model over 2 GB as one external file per tensor: export into a scratch folder, then
    save it again with every initializer in PATH.data (offsets recorded in the .onnx)."""
    import shutil
    import tempfile
    scratch = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(path)))
    try:
        tmp = os.path.join(scratch, "model.onnx")
        torch.onnx.export(model, x, tmp, opset_version=opset, do_constant_folding=True,
                          input_names=["input"], output_names=["output"], **kw)
        m = onnx.load(tmp)  # with its external tensors
        data = os.path.basename(path) + ".data"
        if os.path.exists(path + ".data"):
            os.remove(path + ".data")
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data, size_threshold=1024)
    finally:
        shutil.rmtree(scratch)


def export_one(name, spec, out_dir, verify, extra_batches=()):
    model, x_np, opset, dynamic = build(name, spec)
    if dynamic and extra_batches:
        batch_outputs(name, model, x_np, extra_batches, out_dir)
    x = torch.from_numpy(x_np)
    path = os.path.join(out_dir, name + ".onnx")
    with torch.enable_grad():
        y = model(x).detach().numpy().astype(np.float32)
        kw = {}
        if dynamic:
            kw["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
        if name in EXTERNAL_DATA:
            export_external(model, x, path, opset, kw)
        else:
            torch.onnx.export(model, x, path, opset_version=opset,
                              do_constant_folding=True, input_names=["input"],
                              output_names=["output"], **kw)
    if name in EXTERNAL_DATA:
        onnx.checker.check_model(path)  # by path: the checker reads models over 2 GB that way
        m = onnx.load(path, load_external_data=False)
    else:
        m = onnx.load(path)
        onnx.checker.check_model(m)
    np.save(os.path.join(out_dir, name + ".input.npy"), x_np)
    np.save(os.path.join(out_dir, name + ".output.npy"), y)
    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    msg = "%-30s opset %d  %s  out %s  %7d bytes  |y|max %.3f" % (
        name, opset, "dyn" if dynamic else "static", list(y.shape),
        os.path.getsize(path), float(np.abs(y).max()))
    if verify and name in NO_NUMPY_CHECK:
        msg += "  numpy-onnx check skipped (ops it lacks)"
    elif verify:
        got = run_onnx_numpy(m, x_np)
        err = float(np.abs(got - y).max()) if got.shape == y.shape else float("inf")
        msg += "  numpy-onnx err %.2e" % err
        if not err < 1e-4:
            raise SystemExit("%s: numpy ONNX evaluation disagrees with torch (%g)" % (name, err))
    print(msg, flush=True)
    return ops


# ---------------------------------------------------------------------------
# Minimal numpy ONNX interpreter (only the ops these exporters emit).
# ---------------------------------------------------------------------------
def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _erf(x):
    # Abramowitz-Stegun is not accurate enough; use math.erf elementwise.
    return np.vectorize(math.erf, otypes=[np.float64])(x.astype(np.float64)).astype(x.dtype)


def run_onnx_numpy(model, x):
    from onnx import numpy_helper
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env[model.graph.input[0].name] = x
    for node in model.graph.node:
        a = _attrs(node)
        i = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Constant":
            r = numpy_helper.to_array(a["value"])
        elif op == "Identity":
            r = i[0]
        elif op == "Conv":
            w = i[1]
            k = w.shape[2]
            s = a.get("strides", [1, 1])
            assert list(a.get("kernel_shape", [k, k])) == [k, k] and s == [k, k]
            assert not any(a.get("pads", [0])) and a.get("group", 1) == 1
            B, C, H, W = i[0].shape
            p = i[0].reshape(B, C, H // k, k, W // k, k)
            r = np.einsum("bchiwj,ocij->bohw", p, w)
            if len(i) > 2 and i[2] is not None:
                r = r + i[2].reshape(1, -1, 1, 1)
        elif op == "Shape":
            r = np.array(i[0].shape, dtype=np.int64)
        elif op == "Gather":
            r = np.take(i[0], i[1], axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            axes = i[1] if len(i) > 1 else a["axes"]
            r = i[0]
            for ax in sorted(int(v) % (r.ndim + len(axes)) for v in np.ravel(axes)):
                r = np.expand_dims(r, ax)
        elif op == "Squeeze":
            axes = i[1] if len(i) > 1 and i[1] is not None else a.get("axes")
            r = np.squeeze(i[0], axis=tuple(int(v) for v in np.ravel(axes)) if axes is not None else None)
        elif op == "Concat":
            r = np.concatenate([np.atleast_1d(t) for t in i], axis=a["axis"])
        elif op == "Reshape":
            shp = [int(v) for v in i[1]]
            shp = [i[0].shape[d] if v == 0 else v for d, v in enumerate(shp)]
            r = i[0].reshape(shp)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            r = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif op == "Transpose":
            r = np.transpose(i[0], a.get("perm"))
        elif op == "Expand":
            r = i[0] * np.ones([int(v) for v in i[1]], dtype=i[0].dtype)
        elif op == "ConstantOfShape":
            v = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            r = np.full([int(s) for s in i[0]], v.reshape(-1)[0], dtype=v.dtype)
        elif op == "Slice":
            starts, ends = i[1], i[2]
            axes = i[3] if len(i) > 3 and i[3] is not None else np.arange(len(starts))
            steps = i[4] if len(i) > 4 and i[4] is not None else np.ones(len(starts), np.int64)
            sl = [slice(None)] * i[0].ndim
            for s, e, ax, st in zip(starts, ends, axes, steps):
                e = int(e)
                e = None if e > 2**40 else e
                sl[int(ax)] = slice(int(s), e, int(st))
            r = i[0][tuple(sl)]
        elif op == "Split":
            ax = a.get("axis", 0)
            split = i[1] if len(i) > 1 and i[1] is not None else a.get("split")
            n = len(node.output)
            if split is None:
                parts = np.split(i[0], n, axis=ax)
            else:
                parts = np.split(i[0], np.cumsum([int(s) for s in split])[:-1], axis=ax)
            for o, p_ in zip(node.output, parts):
                env[o] = p_
            continue
        elif op == "Cast":
            to = onnx.helper.tensor_dtype_to_np_dtype(a["to"]) if hasattr(onnx.helper, "tensor_dtype_to_np_dtype") \
                else onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]]
            r = i[0].astype(to)
        elif op in ("Add", "Sub", "Mul", "Div", "Pow", "Equal", "Where", "Max", "Min"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply,
                 "Equal": np.equal, "Max": np.maximum, "Min": np.minimum}.get(op)
            if op == "Div":
                r = (i[0] // i[1]) if np.issubdtype(i[0].dtype, np.integer) else i[0] / i[1]
            elif op == "Pow":
                r = np.power(i[0], i[1]).astype(i[0].dtype)
            elif op == "Where":
                r = np.where(i[0], i[1], i[2])
            else:
                r = f(i[0], i[1])
            if op not in ("Equal", "Where"):
                r = r.astype(i[0].dtype)
        elif op == "Sqrt":
            r = np.sqrt(i[0])
        elif op == "Erf":
            r = _erf(i[0])
        elif op == "Tanh":
            r = np.tanh(i[0])
        elif op == "Sigmoid":
            r = (1.0 / (1.0 + np.exp(-i[0]))).astype(i[0].dtype)
        elif op == "ReduceMean":
            axes = a.get("axes")
            if axes is None and len(i) > 1:
                axes = i[1]
            r = np.mean(i[0], axis=tuple(int(v) for v in axes), keepdims=bool(a.get("keepdims", 1)))
        elif op == "Softmax":
            ax = a.get("axis", -1)
            e = np.exp(i[0] - i[0].max(axis=ax, keepdims=True))
            r = e / e.sum(axis=ax, keepdims=True)
        elif op == "MatMul":
            r = np.matmul(i[0], i[1])
        elif op == "Gemm":
            A = i[0].T if a.get("transA", 0) else i[0]
            Bm = i[1].T if a.get("transB", 0) else i[1]
            r = a.get("alpha", 1.0) * (A @ Bm)
            if len(i) > 2 and i[2] is not None:
                r = r + a.get("beta", 1.0) * i[2]
        elif op == "LayerNormalization":
            ax = a.get("axis", -1)
            eps = a.get("epsilon", 1e-5)
            axes = tuple(range(ax % i[0].ndim, i[0].ndim))
            mu = i[0].mean(axis=axes, keepdims=True)
            var = ((i[0] - mu) ** 2).mean(axis=axes, keepdims=True)
            r = (i[0] - mu) / np.sqrt(var + eps) * i[1]
            if len(i) > 2 and i[2] is not None:
                r = r + i[2]
        else:
            raise NotImplementedError("numpy ONNX evaluator: op %s" % op)
        env[node.output[0]] = r
    return np.asarray(env[model.graph.output[0].name], dtype=np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=False, help="output directory")
    ap.add_argument("--large", action="store_true",
                    help="torchvision ViT-S/16 and ViT-B/16 instead of the small fixtures")
    ap.add_argument("--huge", action="store_true",
                    help="torchvision ViT-L/16 and ViT-H/14 (external data), for make test-models-large")
    ap.add_argument("--only", help="comma-separated model names to export")
    ap.add_argument("--no-verify", action="store_true",
                    help="skip the numpy re-evaluation of the exported graph")
    ap.add_argument("--verify", action="store_true",
                    help="re-evaluate with numpy even with --large (ViT-S ~5 s, ViT-B ~15 s)")
    ap.add_argument("--list", action="store_true", help="list model names and exit")
    ap.add_argument("--batch-outputs", default="",
                    help="comma-separated batches: also write NAME.input_bB.npy / NAME.output_bB.npy (torch) "
                         "for dynamic-batch models")
    args = ap.parse_args()
    table = HUGE if args.huge else LARGE if args.large else SMALL
    if args.list:
        print("\n".join(table))
        return 0
    if not args.out:
        ap.error("--out is required")
    names = list(table)
    if args.only:
        names = args.only.split(",")
        bad = [n for n in names if n not in table]
        if bad:
            ap.error("unknown model(s) %s; choose from %s" % (bad, ", ".join(table)))
    os.makedirs(args.out, exist_ok=True)
    # The numpy evaluator is cheap for the fixtures; off by default for --large.
    verify = args.verify or (not args.no_verify and not args.large and not args.huge)
    import warnings
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    summary = []
    for n in names:
        extra = [int(b) for b in args.batch_outputs.split(",") if b]
        ops = export_one(n, table[n], args.out, verify, extra)
        summary.append((n, ops))
    for n, ops in summary:
        print("%s: %s" % (n, ", ".join("%s=%d" % kv for kv in sorted(ops.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
