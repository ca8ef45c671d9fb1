# mypy: allow-untyped-defs
"""The templates of ``compiler.records``' ``__init__`` functions, up to 32 fields.

Written by ``compiler.records.template_module()`` (then ``ruff format``): edit that, not this file.
"""


def _init1(__o, __f, __d):
    def __init__(self, _p0):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)

    return __init__


def _init2(__o, __f, __d):
    def __init__(self, _p0, _p1):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)

    return __init__


def _init3(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)

    return __init__


def _init4(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)

    return __init__


def _init5(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3, _p4):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)

    return __init__


def _init6(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3, _p4, _p5):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)

    return __init__


def _init7(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3, _p4, _p5, _p6):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)

    return __init__


def _init8(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3, _p4, _p5, _p6, _p7):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)

    return __init__


def _init9(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3, _p4, _p5, _p6, _p7, _p8):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)

    return __init__


def _init10(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3, _p4, _p5, _p6, _p7, _p8, _p9):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)

    return __init__


def _init11(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3, _p4, _p5, _p6, _p7, _p8, _p9, _p10):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)

    return __init__


def _init12(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3, _p4, _p5, _p6, _p7, _p8, _p9, _p10, _p11):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)

    return __init__


def _init13(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3, _p4, _p5, _p6, _p7, _p8, _p9, _p10, _p11, _p12):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)

    return __init__


def _init14(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3, _p4, _p5, _p6, _p7, _p8, _p9, _p10, _p11, _p12, _p13):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)

    return __init__


def _init15(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3, _p4, _p5, _p6, _p7, _p8, _p9, _p10, _p11, _p12, _p13, _p14):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)

    return __init__


def _init16(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3, _p4, _p5, _p6, _p7, _p8, _p9, _p10, _p11, _p12, _p13, _p14, _p15):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)

    return __init__


def _init17(__o, __f, __d):
    def __init__(self, _p0, _p1, _p2, _p3, _p4, _p5, _p6, _p7, _p8, _p9, _p10, _p11, _p12, _p13, _p14, _p15, _p16):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)

    return __init__


def _init18(__o, __f, __d):
    def __init__(
        self, _p0, _p1, _p2, _p3, _p4, _p5, _p6, _p7, _p8, _p9, _p10, _p11, _p12, _p13, _p14, _p15, _p16, _p17
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)

    return __init__


def _init19(__o, __f, __d):
    def __init__(
        self, _p0, _p1, _p2, _p3, _p4, _p5, _p6, _p7, _p8, _p9, _p10, _p11, _p12, _p13, _p14, _p15, _p16, _p17, _p18
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)

    return __init__


def _init20(__o, __f, __d):
    def __init__(
        self,
        _p0,
        _p1,
        _p2,
        _p3,
        _p4,
        _p5,
        _p6,
        _p7,
        _p8,
        _p9,
        _p10,
        _p11,
        _p12,
        _p13,
        _p14,
        _p15,
        _p16,
        _p17,
        _p18,
        _p19,
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)
        __o(self, "_p19", __d[19]() if _p19 is __f else _p19)

    return __init__


def _init21(__o, __f, __d):
    def __init__(
        self,
        _p0,
        _p1,
        _p2,
        _p3,
        _p4,
        _p5,
        _p6,
        _p7,
        _p8,
        _p9,
        _p10,
        _p11,
        _p12,
        _p13,
        _p14,
        _p15,
        _p16,
        _p17,
        _p18,
        _p19,
        _p20,
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)
        __o(self, "_p19", __d[19]() if _p19 is __f else _p19)
        __o(self, "_p20", __d[20]() if _p20 is __f else _p20)

    return __init__


def _init22(__o, __f, __d):
    def __init__(
        self,
        _p0,
        _p1,
        _p2,
        _p3,
        _p4,
        _p5,
        _p6,
        _p7,
        _p8,
        _p9,
        _p10,
        _p11,
        _p12,
        _p13,
        _p14,
        _p15,
        _p16,
        _p17,
        _p18,
        _p19,
        _p20,
        _p21,
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)
        __o(self, "_p19", __d[19]() if _p19 is __f else _p19)
        __o(self, "_p20", __d[20]() if _p20 is __f else _p20)
        __o(self, "_p21", __d[21]() if _p21 is __f else _p21)

    return __init__


def _init23(__o, __f, __d):
    def __init__(
        self,
        _p0,
        _p1,
        _p2,
        _p3,
        _p4,
        _p5,
        _p6,
        _p7,
        _p8,
        _p9,
        _p10,
        _p11,
        _p12,
        _p13,
        _p14,
        _p15,
        _p16,
        _p17,
        _p18,
        _p19,
        _p20,
        _p21,
        _p22,
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)
        __o(self, "_p19", __d[19]() if _p19 is __f else _p19)
        __o(self, "_p20", __d[20]() if _p20 is __f else _p20)
        __o(self, "_p21", __d[21]() if _p21 is __f else _p21)
        __o(self, "_p22", __d[22]() if _p22 is __f else _p22)

    return __init__


def _init24(__o, __f, __d):
    def __init__(
        self,
        _p0,
        _p1,
        _p2,
        _p3,
        _p4,
        _p5,
        _p6,
        _p7,
        _p8,
        _p9,
        _p10,
        _p11,
        _p12,
        _p13,
        _p14,
        _p15,
        _p16,
        _p17,
        _p18,
        _p19,
        _p20,
        _p21,
        _p22,
        _p23,
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)
        __o(self, "_p19", __d[19]() if _p19 is __f else _p19)
        __o(self, "_p20", __d[20]() if _p20 is __f else _p20)
        __o(self, "_p21", __d[21]() if _p21 is __f else _p21)
        __o(self, "_p22", __d[22]() if _p22 is __f else _p22)
        __o(self, "_p23", __d[23]() if _p23 is __f else _p23)

    return __init__


def _init25(__o, __f, __d):
    def __init__(
        self,
        _p0,
        _p1,
        _p2,
        _p3,
        _p4,
        _p5,
        _p6,
        _p7,
        _p8,
        _p9,
        _p10,
        _p11,
        _p12,
        _p13,
        _p14,
        _p15,
        _p16,
        _p17,
        _p18,
        _p19,
        _p20,
        _p21,
        _p22,
        _p23,
        _p24,
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)
        __o(self, "_p19", __d[19]() if _p19 is __f else _p19)
        __o(self, "_p20", __d[20]() if _p20 is __f else _p20)
        __o(self, "_p21", __d[21]() if _p21 is __f else _p21)
        __o(self, "_p22", __d[22]() if _p22 is __f else _p22)
        __o(self, "_p23", __d[23]() if _p23 is __f else _p23)
        __o(self, "_p24", __d[24]() if _p24 is __f else _p24)

    return __init__


def _init26(__o, __f, __d):
    def __init__(
        self,
        _p0,
        _p1,
        _p2,
        _p3,
        _p4,
        _p5,
        _p6,
        _p7,
        _p8,
        _p9,
        _p10,
        _p11,
        _p12,
        _p13,
        _p14,
        _p15,
        _p16,
        _p17,
        _p18,
        _p19,
        _p20,
        _p21,
        _p22,
        _p23,
        _p24,
        _p25,
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)
        __o(self, "_p19", __d[19]() if _p19 is __f else _p19)
        __o(self, "_p20", __d[20]() if _p20 is __f else _p20)
        __o(self, "_p21", __d[21]() if _p21 is __f else _p21)
        __o(self, "_p22", __d[22]() if _p22 is __f else _p22)
        __o(self, "_p23", __d[23]() if _p23 is __f else _p23)
        __o(self, "_p24", __d[24]() if _p24 is __f else _p24)
        __o(self, "_p25", __d[25]() if _p25 is __f else _p25)

    return __init__


def _init27(__o, __f, __d):
    def __init__(
        self,
        _p0,
        _p1,
        _p2,
        _p3,
        _p4,
        _p5,
        _p6,
        _p7,
        _p8,
        _p9,
        _p10,
        _p11,
        _p12,
        _p13,
        _p14,
        _p15,
        _p16,
        _p17,
        _p18,
        _p19,
        _p20,
        _p21,
        _p22,
        _p23,
        _p24,
        _p25,
        _p26,
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)
        __o(self, "_p19", __d[19]() if _p19 is __f else _p19)
        __o(self, "_p20", __d[20]() if _p20 is __f else _p20)
        __o(self, "_p21", __d[21]() if _p21 is __f else _p21)
        __o(self, "_p22", __d[22]() if _p22 is __f else _p22)
        __o(self, "_p23", __d[23]() if _p23 is __f else _p23)
        __o(self, "_p24", __d[24]() if _p24 is __f else _p24)
        __o(self, "_p25", __d[25]() if _p25 is __f else _p25)
        __o(self, "_p26", __d[26]() if _p26 is __f else _p26)

    return __init__


def _init28(__o, __f, __d):
    def __init__(
        self,
        _p0,
        _p1,
        _p2,
        _p3,
        _p4,
        _p5,
        _p6,
        _p7,
        _p8,
        _p9,
        _p10,
        _p11,
        _p12,
        _p13,
        _p14,
        _p15,
        _p16,
        _p17,
        _p18,
        _p19,
        _p20,
        _p21,
        _p22,
        _p23,
        _p24,
        _p25,
        _p26,
        _p27,
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)
        __o(self, "_p19", __d[19]() if _p19 is __f else _p19)
        __o(self, "_p20", __d[20]() if _p20 is __f else _p20)
        __o(self, "_p21", __d[21]() if _p21 is __f else _p21)
        __o(self, "_p22", __d[22]() if _p22 is __f else _p22)
        __o(self, "_p23", __d[23]() if _p23 is __f else _p23)
        __o(self, "_p24", __d[24]() if _p24 is __f else _p24)
        __o(self, "_p25", __d[25]() if _p25 is __f else _p25)
        __o(self, "_p26", __d[26]() if _p26 is __f else _p26)
        __o(self, "_p27", __d[27]() if _p27 is __f else _p27)

    return __init__


def _init29(__o, __f, __d):
    def __init__(
        self,
        _p0,
        _p1,
        _p2,
        _p3,
        _p4,
        _p5,
        _p6,
        _p7,
        _p8,
        _p9,
        _p10,
        _p11,
        _p12,
        _p13,
        _p14,
        _p15,
        _p16,
        _p17,
        _p18,
        _p19,
        _p20,
        _p21,
        _p22,
        _p23,
        _p24,
        _p25,
        _p26,
        _p27,
        _p28,
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)
        __o(self, "_p19", __d[19]() if _p19 is __f else _p19)
        __o(self, "_p20", __d[20]() if _p20 is __f else _p20)
        __o(self, "_p21", __d[21]() if _p21 is __f else _p21)
        __o(self, "_p22", __d[22]() if _p22 is __f else _p22)
        __o(self, "_p23", __d[23]() if _p23 is __f else _p23)
        __o(self, "_p24", __d[24]() if _p24 is __f else _p24)
        __o(self, "_p25", __d[25]() if _p25 is __f else _p25)
        __o(self, "_p26", __d[26]() if _p26 is __f else _p26)
        __o(self, "_p27", __d[27]() if _p27 is __f else _p27)
        __o(self, "_p28", __d[28]() if _p28 is __f else _p28)

    return __init__


def _init30(__o, __f, __d):
    def __init__(
        self,
        _p0,
        _p1,
        _p2,
        _p3,
        _p4,
        _p5,
        _p6,
        _p7,
        _p8,
        _p9,
        _p10,
        _p11,
        _p12,
        _p13,
        _p14,
        _p15,
        _p16,
        _p17,
        _p18,
        _p19,
        _p20,
        _p21,
        _p22,
        _p23,
        _p24,
        _p25,
        _p26,
        _p27,
        _p28,
        _p29,
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)
        __o(self, "_p19", __d[19]() if _p19 is __f else _p19)
        __o(self, "_p20", __d[20]() if _p20 is __f else _p20)
        __o(self, "_p21", __d[21]() if _p21 is __f else _p21)
        __o(self, "_p22", __d[22]() if _p22 is __f else _p22)
        __o(self, "_p23", __d[23]() if _p23 is __f else _p23)
        __o(self, "_p24", __d[24]() if _p24 is __f else _p24)
        __o(self, "_p25", __d[25]() if _p25 is __f else _p25)
        __o(self, "_p26", __d[26]() if _p26 is __f else _p26)
        __o(self, "_p27", __d[27]() if _p27 is __f else _p27)
        __o(self, "_p28", __d[28]() if _p28 is __f else _p28)
        __o(self, "_p29", __d[29]() if _p29 is __f else _p29)

    return __init__


def _init31(__o, __f, __d):
    def __init__(
        self,
        _p0,
        _p1,
        _p2,
        _p3,
        _p4,
        _p5,
        _p6,
        _p7,
        _p8,
        _p9,
        _p10,
        _p11,
        _p12,
        _p13,
        _p14,
        _p15,
        _p16,
        _p17,
        _p18,
        _p19,
        _p20,
        _p21,
        _p22,
        _p23,
        _p24,
        _p25,
        _p26,
        _p27,
        _p28,
        _p29,
        _p30,
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)
        __o(self, "_p19", __d[19]() if _p19 is __f else _p19)
        __o(self, "_p20", __d[20]() if _p20 is __f else _p20)
        __o(self, "_p21", __d[21]() if _p21 is __f else _p21)
        __o(self, "_p22", __d[22]() if _p22 is __f else _p22)
        __o(self, "_p23", __d[23]() if _p23 is __f else _p23)
        __o(self, "_p24", __d[24]() if _p24 is __f else _p24)
        __o(self, "_p25", __d[25]() if _p25 is __f else _p25)
        __o(self, "_p26", __d[26]() if _p26 is __f else _p26)
        __o(self, "_p27", __d[27]() if _p27 is __f else _p27)
        __o(self, "_p28", __d[28]() if _p28 is __f else _p28)
        __o(self, "_p29", __d[29]() if _p29 is __f else _p29)
        __o(self, "_p30", __d[30]() if _p30 is __f else _p30)

    return __init__


def _init32(__o, __f, __d):
    def __init__(
        self,
        _p0,
        _p1,
        _p2,
        _p3,
        _p4,
        _p5,
        _p6,
        _p7,
        _p8,
        _p9,
        _p10,
        _p11,
        _p12,
        _p13,
        _p14,
        _p15,
        _p16,
        _p17,
        _p18,
        _p19,
        _p20,
        _p21,
        _p22,
        _p23,
        _p24,
        _p25,
        _p26,
        _p27,
        _p28,
        _p29,
        _p30,
        _p31,
    ):
        __o(self, "_p0", __d[0]() if _p0 is __f else _p0)
        __o(self, "_p1", __d[1]() if _p1 is __f else _p1)
        __o(self, "_p2", __d[2]() if _p2 is __f else _p2)
        __o(self, "_p3", __d[3]() if _p3 is __f else _p3)
        __o(self, "_p4", __d[4]() if _p4 is __f else _p4)
        __o(self, "_p5", __d[5]() if _p5 is __f else _p5)
        __o(self, "_p6", __d[6]() if _p6 is __f else _p6)
        __o(self, "_p7", __d[7]() if _p7 is __f else _p7)
        __o(self, "_p8", __d[8]() if _p8 is __f else _p8)
        __o(self, "_p9", __d[9]() if _p9 is __f else _p9)
        __o(self, "_p10", __d[10]() if _p10 is __f else _p10)
        __o(self, "_p11", __d[11]() if _p11 is __f else _p11)
        __o(self, "_p12", __d[12]() if _p12 is __f else _p12)
        __o(self, "_p13", __d[13]() if _p13 is __f else _p13)
        __o(self, "_p14", __d[14]() if _p14 is __f else _p14)
        __o(self, "_p15", __d[15]() if _p15 is __f else _p15)
        __o(self, "_p16", __d[16]() if _p16 is __f else _p16)
        __o(self, "_p17", __d[17]() if _p17 is __f else _p17)
        __o(self, "_p18", __d[18]() if _p18 is __f else _p18)
        __o(self, "_p19", __d[19]() if _p19 is __f else _p19)
        __o(self, "_p20", __d[20]() if _p20 is __f else _p20)
        __o(self, "_p21", __d[21]() if _p21 is __f else _p21)
        __o(self, "_p22", __d[22]() if _p22 is __f else _p22)
        __o(self, "_p23", __d[23]() if _p23 is __f else _p23)
        __o(self, "_p24", __d[24]() if _p24 is __f else _p24)
        __o(self, "_p25", __d[25]() if _p25 is __f else _p25)
        __o(self, "_p26", __d[26]() if _p26 is __f else _p26)
        __o(self, "_p27", __d[27]() if _p27 is __f else _p27)
        __o(self, "_p28", __d[28]() if _p28 is __f else _p28)
        __o(self, "_p29", __d[29]() if _p29 is __f else _p29)
        __o(self, "_p30", __d[30]() if _p30 is __f else _p30)
        __o(self, "_p31", __d[31]() if _p31 is __f else _p31)

    return __init__


TEMPLATES = (
    _init1,
    _init2,
    _init3,
    _init4,
    _init5,
    _init6,
    _init7,
    _init8,
    _init9,
    _init10,
    _init11,
    _init12,
    _init13,
    _init14,
    _init15,
    _init16,
    _init17,
    _init18,
    _init19,
    _init20,
    _init21,
    _init22,
    _init23,
    _init24,
    _init25,
    _init26,
    _init27,
    _init28,
    _init29,
    _init30,
    _init31,
    _init32,
)
