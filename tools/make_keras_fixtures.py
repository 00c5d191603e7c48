#!/usr/bin/env python3
"""make_keras_fixtures.py: Keras models of the DSB2018 U-Net, as users have
them, and Keras's own predictions, for clunet's import test (test_keras_import).

    tools/make_keras_fixtures.py            # writes datasets/fixtures/keras/

Creates (once) the git-ignored virtual environment .venv-keras with
tensorflow-cpu and tf-keras from PyPI (CLUNET_KERAS_VENV overrides the path)
and re-runs itself inside it. Builds the seed's network (Train.py's layers,
DESIGN.md section 4) at c = 0.0625 and S = 64 with fixed random weights and
biases, and writes:

  unet_k3.h5, unet_k3.keras   Keras 3, HDF5 and .keras (zip) formats
  unet_k2.h5                  Keras 2 (tf-keras): the files users have today
  unet_k3_transposed.keras    Conv2DTranspose up-sampling
  unet_k3_open.keras          unet_k3.keras with the input shape left open
                              (None, None, 3): clunet import needs -s
  keras_io.safetensors        x: two inputs (2,3,64,64) in [0,1], NCHW;
                              y, y_transposed: Keras's model.predict (2,1,64,64)
  bad_arch.h5                 a two-layer model (not the U-Net)
  bad_missing.h5              a Keras 2 U-Net at c = 1/32 without one layer's weights
  bad_shape.h5                the same with one kernel of the wrong shape
  bad_activation.keras        unet_k3.keras's config.json with a tanh convolution
                              (and no weights: the configuration is refused first)

All models share the same weights, so y is the expected output of each.
"""
import json
import os
import struct
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'datasets', 'fixtures', 'keras')
VENV = os.environ.get('CLUNET_KERAS_VENV', os.path.join(ROOT, '.venv-keras'))
PACKAGES = ['tensorflow-cpu==2.21.0', 'tf-keras==2.21.0']
S, C = 64, 0.0625


def in_venv():
    py = os.path.join(VENV, 'bin', 'python')
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, '-m', 'venv', VENV])
        subprocess.check_call([py, '-m', 'pip', 'install', '-q', '--disable-pip-version-check'] + PACKAGES)
    os.execv(py, [py] + sys.argv)


in_venv()
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ['TF_ENABLE_ONEDNN_OPTS'] = '0'  # plain float32 arithmetic in TensorFlow's convolutions
import h5py  # noqa: E402  (after the venv switch)
import numpy as np  # noqa: E402
import keras  # noqa: E402  Keras 3
import tf_keras  # noqa: E402  Keras 2


def unet(k, upsample='bilinear', C=C):
    """Train.py's U-Net in Keras module k (keras or tf_keras)."""
    L = k.layers

    def conv(n, x, act='relu', size=3):
        return L.Conv2D(n, size, activation=act, padding='same', kernel_initializer='he_normal')(x)

    inp = k.Input(shape=(S, S, 3))
    skips, x = [], inp
    for n in (32, 64, 128, 256):
        x = conv(int(n * C), conv(int(n * C), x))
        skips.append(x)
        x = L.MaxPooling2D(2)(x)
    x = conv(int(512 * C), conv(int(512 * C), x))
    for n, s in zip((256, 128, 64, 32), reversed(skips)):
        if upsample == 'bilinear':
            up = L.UpSampling2D(2, interpolation='bilinear')(x)
        else:
            up = L.Conv2DTranspose(int(n * C), 2, strides=2, padding='same')(x)
        x = L.Concatenate()([s, up])
        x = conv(int(n * C), conv(int(n * C), x))
    x = conv(2, x)
    out = L.Conv2D(1, 1, activation='sigmoid')(x)
    return k.Model(inp, out)


def set_weights(model, seed):
    """He-normal kernels and non-zero biases (so that biases are checked too),
    the same numbers for every model of the same shapes."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        kern, bias = ws
        fan_in = np.prod(kern.shape[:2]) * (kern.shape[3] if layer.__class__.__name__ == 'Conv2DTranspose'
                                            else kern.shape[2])
        kern = (rng.standard_normal(kern.shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        bias = rng.uniform(-0.05, 0.15, bias.shape).astype(np.float32)
        layer.set_weights([kern, bias])


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype='<f4')
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def main():
    os.makedirs(OUT, exist_ok=True)
    p = lambda name: os.path.join(OUT, name)  # noqa: E731
    x = np.random.default_rng(7).random((2, S, S, 3), dtype=np.float32)
    k3 = unet(keras)
    set_weights(k3, 1)
    y = k3.predict(x, verbose=0)
    k3.save(p('unet_k3.h5'))
    k3.save(p('unet_k3.keras'))
    with zipfile.ZipFile(p('unet_k3.keras')) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    cfg = json.loads(entries['config.json'])
    cfg['config']['layers'][0]['config']['batch_shape'] = [None, None, None, 3]
    entries['config.json'] = json.dumps(cfg).encode()
    with zipfile.ZipFile(p('unet_k3_open.keras'), 'w') as z:
        for n, data in entries.items():
            z.writestr(n, data)
    k2 = unet(tf_keras)
    set_weights(k2, 1)
    y2 = k2.predict(x, verbose=0)
    assert np.abs(y2 - y).max() < 1e-5, 'Keras 2 and 3 disagree'
    k2.save(p('unet_k2.h5'), save_format='h5')
    kt = unet(keras, 'transposed')
    set_weights(kt, 2)
    yt = kt.predict(x, verbose=0)
    kt.save(p('unet_k3_transposed.keras'))
    write_safetensors(p('keras_io.safetensors'), {'x': x.transpose(0, 3, 1, 2), 'y': y.transpose(0, 3, 1, 2),
                                                 'y_transposed': yt.transpose(0, 3, 1, 2)})

    # Malformed models: each is refused with one line naming what does not fit.
    inp = tf_keras.Input(shape=(S, S, 3))
    h = tf_keras.layers.Conv2D(2, 3, activation='relu', padding='same')(inp)
    tf_keras.Model(inp, tf_keras.layers.Conv2D(1, 1, activation='sigmoid')(h)).save(p('bad_arch.h5'),
                                                                                    save_format='h5')
    tf_keras.backend.clear_session()  # layer names start again at conv2d
    small = unet(tf_keras, C=1 / 32)
    set_weights(small, 3)
    for name in ('bad_missing.h5', 'bad_shape.h5'):
        small.save(p(name), save_format='h5')
    with h5py.File(p('bad_missing.h5'), 'r+') as f:
        del f['model_weights/conv2d_5']  # enc3.conv2
    with h5py.File(p('bad_shape.h5'), 'r+') as f:
        g = f['model_weights/conv2d_3/conv2d_3']  # enc2.conv2
        kern = g['kernel:0'][...]
        del g['kernel:0']
        g['kernel:0'] = np.concatenate([kern, kern[..., :1]], axis=3)
    with zipfile.ZipFile(p('unet_k3.keras')) as z:
        cfg = json.loads(z.read('config.json'))
        meta = z.read('metadata.json')
    cfg['config']['layers'][5]['config']['activation'] = 'tanh'
    with zipfile.ZipFile(p('bad_activation.keras'), 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('metadata.json', meta)
        z.writestr('config.json', json.dumps(cfg))
    total = sum(os.path.getsize(p(n)) for n in os.listdir(OUT))
    print(f'{OUT}: {len(os.listdir(OUT))} files, {total} bytes; keras {keras.__version__}, '
          f'tf-keras {tf_keras.__version__}')


main()
