"""Architectures the Python API tests count live and through `netcost summary FILE:NAME` (each builds without
arguments; `INPUTS` gives the CLI's --input and the live example inputs)."""

import torch
from torch import nn


class ResBlock(nn.Module):
    """A ResNet basic block with a strided downsample path."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.downsample = nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.downsample(x))


class Inception(nn.Module):
    """Four branches side by side into one concat."""

    def __init__(self):
        super().__init__()
        self.branch1 = nn.Conv2d(32, 16, 1)
        self.branch2 = nn.Sequential(nn.Conv2d(32, 16, 1), nn.ReLU(), nn.Conv2d(16, 24, 3, padding=1))
        self.branch3 = nn.Sequential(nn.Conv2d(32, 8, 1), nn.ReLU(), nn.Conv2d(8, 8, 5, padding=2))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(32, 8, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class Encoder(nn.Module):
    """One transformer encoder layer (batch first) and a head."""

    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, batch_first=True)
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        return self.head(self.layer(x))


class Recurrent(nn.Module):
    """A two-layer LSTM and a classifier on its last step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(16, 32, num_layers=2, batch_first=True)
        self.fc = nn.Linear(32, 5)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


class Branchy(nn.Module):
    """A user's module: two paths chosen and merged in Python, a functional op and a frozen stem."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.left = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.GELU())
        self.right = nn.Conv2d(8, 8, 1)
        self.norm = nn.GroupNorm(2, 16)
        self.fc = nn.Linear(16, 4)
        self.stem.requires_grad_(False)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        y = torch.cat([self.left(x), self.right(x) * 0.5], dim=1)
        y = self.norm(y)
        return self.fc(y.mean((2, 3)))


INPUTS = {"ResBlock": (1, 16, 16, 16), "Inception": (1, 32, 8, 8), "Encoder": (2, 12, 32), "Recurrent": (2, 7, 16),
          "Branchy": (1, 3, 12, 12)}


class Spectral(nn.Module):
    """A conv feeding an FFT (no formula: measured when traced, so an edit upstream needs a new trace)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        return torch.fft.rfft2(self.conv(x)).abs()


INPUTS["Spectral"] = (1, 3, 8, 8)
