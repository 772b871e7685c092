#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Seed corpus for fuzz_image: four tiny JPEGs (17x12 noise written by Pillow 9.4: 4:2:0,
progressive, 4:4:4, grayscale; stored here as base64 so no imaging library is needed), PNMs
of every supported kind and small PNGs built here with zlib (gray 2/8-bit, 16-bit RGBA,
palette with tRNS, Adam7-interlaced gray+alpha). usage: make_image_seeds.py SEED_DIR STAMP"""
import base64
import os
import struct
import sys
import zlib

JPEGS = \
{'baseline420.jpg': '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wAARCAAMABEDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwBsP2m+vIpVa6klYN5aTysZFkQj5CuAThoznJxnbkAgUx4Y7i1t/wDQwGWKKVLOOJWkZRsALE4VA2cZbrsHXOTU0i8nuNV1cGTYtnakpsABcfdKs33ipDNxnucYra8OFteTVTLI9uitDbeVbn5CrS+XnDbuQEBBGMH24q6tFxal1t+F9vn+HR6s0nTVOm6rSsrtaa7q2++681rr353+w5P+gVqn/gPP/wDFUUv2Qf8APaf/AL+GitfYv/n4/wDyb/5Mq2L/AJ//ACZ/5H//2Q==', 'progressive.jpg': '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wgARCAAMABEDASIAAhEBAxEB/8QAGQAAAQUAAAAAAAAAAAAAAAAAAAECAwQF/8QAFQEBAQAAAAAAAAAAAAAAAAAAAQL/2gAMAwEAAhADEAAAAUbFdazgLf/EABwQAAICAgMAAAAAAAAAAAAAAAECAAMEEhETI//aAAgBAQABBQIbO/AZegypy1uP7zWf/8QAGhEAAgIDAAAAAAAAAAAAAAAAAAIBEiNRof/aAAgBAwEBPwGVqtjLvp//xAAbEQACAQUAAAAAAAAAAAAAAAAAAhESIWKx0f/aAAgBAgEBPwFki5Rlvp//xAAjEAABAwIFBQAAAAAAAAAAAAABAAIRAyESIjEyQTNxkZLw/9oACAEBAAY/AgcxPEm8/BNycA4ALrpVfUqrfY1VZOHRsN7wtT5X/8QAIBAAAgEEAQUAAAAAAAAAAAAAARFBACExURBhcbHB8P/aAAgBAQABPyFUExoZAhd/CjMgAAJC2YD66r4H3WKQsqYROVc04sADEI7Hrjv/2gAMAwEAAgADAAAAEEjP/8QAHBEBAAMAAgMAAAAAAAAAAAAAAREhMQBRYdHx/9oACAEDAQE/ECRhBKVekbunku+4+71z/8QAHBEAAQQDAQAAAAAAAAAAAAAAAQARQaEhMVGB/9oACAECAQE/EDEJNT69qDkp3Sf/xAAbEAEBAAMAAwAAAAAAAAAAAAABEQAhMUFh4f/aAAgBAQABPxCJhU5E3gWJay7AhmoAHkEimDUvU9tcJFbUMwT10EaL5ZMadqNvsp0Aokj61k/Vn//Z', '444.jpg': '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wAARCAAMABEDAREAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCPTRqvivXrK8jm1a8vpllFtbaneSNdxXcLIPs8kIUMwWW1fJLYyYSwV1jFXi4Uq8q1P2sJUpcvtIQcYyioym1yNbSfNGEIe7FyddKbjU9vLONLLMK6scwoxcXK/MouEJc8YRlGp7N1rypOMG1GEFGaSVVU6jTrXGnW2s6NpIGhpHLFZ2d5B4etbOGW6khX7OitIzFYoFl8wLumPzCBSdwbc3BRp1cBJZVUxEq9NxlJVfazaVSXOo8kW42t7SUWk6brTckpKahTOt4bCZfThncKEqvJzOderZtxppxnNJN6xi3KKj7SN37R+ylFzjxv/CrLr/oTvFn/AILNR/8Aj1P+0of9DvL/ALsP/wDKTr/t7N/+g2p/4Ppf/KTU+HPiTUdY8a+PEa4+zR6DpDPALdFDzocxvFNKQZGjZZpcoGAG8ldpNfbKnRw+HWMpU4qq1Sq89tVOpQjVk0vhTcqUU5W55RcuaUm7nv1cBh8Hi6tOcVVvC759buMZRTsuWK92ytGKVkla10/R/gq03xZt/HDXlzNo1tFJp+kGy0psW7wy3gtSxSXzMOqwRujLjawwPkAQfnuYV4YHKMPONJSkqaqqTc+dSVGM7e0jKM3B+1qJxlJ3Un9r3jws+wnscqw2Lw1SVKpWnaco2Tlz1JKV202rqbVk0kkuVLW/k3/CPp/z/X//AIEtX7b+/wD+fz/8Bp//ACB8V7fLf+hZh/8AwCX/AMmf/9k=', 'gray.jpg': '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdBRkxOUlNSMj5aYVpQYEpRUk//wAALCAAMABEBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/AGxJC9yzXUTSFmJQuCu5sICjqu7JVowTwBnbyMgUrW1rHa2+orp7zGJBI7yxq0jImFL9cLw3Gcg4Dcfeqv8A8TH+9qv/AH+P+FX7IbdX1JHAkEFqWy4GXIDL82O2DjAwKniia/0uS4SeW0aaWOGUW5ADq8xQk7gcHHTGMYGOOK5nbZ/9A2z/AO+W/wAa/9k='}

PNMS = {
    'p6.ppm': b'P6\n# c\n3 2\n255\n' + bytes(range(18)),
    'p5.pgm': b'P5 4 2 255\n' + bytes(range(0, 256, 32)),
    'p6-16.ppm': b'P6 1 2 65535\n' + bytes(range(12)),
    'p5-15.pgm': b'P5 3 1 15\n\x00\x07\x0f',
    'p3.ppm': b'P3\n2 1\n1000\n0 500 1000 999 1 250\n',
    'p2.pgm': b'P2 3 2 7 # x\n0 1 2\n3 4 7\n',
}


def png_chunk(kind, data):
    body = kind + data
    return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body))


def make_png(w, h, depth, color_type, rows, interlace=0, extra=b''):
    """rows: the filtered scanline bytes (already in pass order when interlaced)."""
    return (b'\x89PNG\r\n\x1a\n' +
            png_chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, color_type, 0, 0, interlace)) +
            extra + png_chunk(b'IDAT', zlib.compress(rows)) + png_chunk(b'IEND', b''))


def adam7_rows(w, h, bytes_per_pixel, pixel):
    out = b''
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                           (1, 0, 2, 2), (0, 1, 1, 2)):
        xs, ys = range(x0, w, dx), range(y0, h, dy)
        if len(xs) and len(ys):
            for y in ys:
                out += b'\x00' + b''.join(pixel(x, y) for x in xs)
    return out


PNGS = {
    'gray8.png': make_png(5, 3, 8, 0, b''.join(b'\x00' + bytes(range(y * 5, y * 5 + 5))
                                               for y in range(3))),
    'gray2-sub.png': make_png(6, 2, 2, 0, b'\x01\x1b\x40' + b'\x02\xe4\x10'),
    'rgba16.png': make_png(2, 2, 16, 6, b''.join(b'\x00' + bytes(range(16 * y, 16 * y + 16))
                                                 for y in range(2))),
    'palette4-trns.png': make_png(3, 2, 4, 3, b'\x00\x01\x20\x00\x23\x10',
                                  extra=png_chunk(b'PLTE', bytes(range(12))) +
                                  png_chunk(b'tRNS', b'\x80')),
    'adam7-ga8.png': make_png(9, 9, 8, 4, adam7_rows(9, 9, 2, lambda x, y: bytes((x * 28, y * 28))),
                              interlace=1),
}


def main():
    out, stamp = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name, b64 in JPEGS.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(base64.b64decode(b64))
    for name, data in PNMS.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
    for name, data in PNGS.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
    with open(stamp, 'w') as f:
        f.write('%d seeds\n' % (len(JPEGS) + len(PNMS) + len(PNGS)))


if __name__ == '__main__':
    main()
