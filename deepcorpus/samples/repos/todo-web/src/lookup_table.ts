// Precomputed lookup table: the values of (i * 7919) mod 10007, and the helpers that read it.
export const TABLE = [0, 7919, 5831, 3743, 1655, 9574, 7486, 5398, 3310, 1222, 9141, 7053, 4965, 2877, 789, 8708, 6620, 4532, 2444, 356, 8275, 6187, 4099, 2011, 9930, 7842, 5754, 3666, 1578, 9497, 7409, 5321, 3233, 1145, 9064, 6976, 4888, 2800, 712, 8631, 6543, 4455, 2367, 279, 8198, 6110, 4022, 1934, 9853, 7765, 5677, 3589, 1501, 9420, 7332, 5244, 3156, 1068, 8987, 6899, 4811, 2723, 635, 8554, 6466, 4378, 2290, 202, 8121, 6033, 3945, 1857, 9776, 7688, 5600, 3512, 1424, 9343, 7255, 5167, 3079, 991, 8910, 6822, 4734, 2646, 558, 8477, 6389, 4301, 2213, 125, 8044, 5956, 3868, 1780, 9699, 7611, 5523, 3435, 1347, 9266, 7178, 5090, 3002, 914, 8833, 6745, 4657, 2569, 481, 8400, 6312, 4224, 2136, 48, 7967, 5879, 3791, 1703, 9622, 7534, 5446, 3358, 1270, 9189, 7101, 5013, 2925, 837, 8756, 6668, 4580, 2492, 404, 8323, 6235, 4147, 2059, 9978, 7890, 5802, 3714, 1626, 9545, 7457, 5369, 3281, 1193, 9112, 7024, 4936, 2848, 760, 8679, 6591, 4503, 2415, 327, 8246, 6158, 4070, 1982, 9901, 7813, 5725, 3637, 1549, 9468, 7380, 5292, 3204, 1116, 9035, 6947, 4859, 2771, 683, 8602, 6514, 4426, 2338, 250, 8169, 6081, 3993, 1905, 9824, 7736, 5648, 3560, 1472, 9391, 7303, 5215, 3127, 1039, 8958, 6870, 4782, 2694, 606, 8525, 6437, 4349, 2261, 173, 8092, 6004, 3916, 1828, 9747, 7659, 5571, 3483, 1395, 9314, 7226, 5138, 3050, 962, 8881, 6793, 4705, 2617, 529, 8448, 6360, 4272, 2184, 96, 8015, 5927, 3839, 1751, 9670, 7582, 5494, 3406, 1318, 9237, 7149, 5061, 2973, 885, 8804, 6716, 4628, 2540, 452, 8371, 6283, 4195, 2107, 19, 7938, 5850, 3762, 1674, 9593, 7505, 5417, 3329, 1241, 9160, 7072, 4984, 2896, 808, 8727, 6639, 4551, 2463, 375, 8294, 6206, 4118, 2030, 9949, 7861, 5773, 3685, 1597, 9516, 7428, 5340, 3252, 1164, 9083, 6995, 4907, 2819, 731, 8650, 6562, 4474, 2386, 298, 8217, 6129, 4041, 1953, 9872, 7784, 5696, 3608, 1520, 9439, 7351, 5263, 3175, 1087, 9006, 6918, 4830, 2742, 654, 8573, 6485, 4397, 2309, 221, 8140, 6052, 3964, 1876, 9795, 7707, 5619, 3531, 1443, 9362, 7274, 5186, 3098, 1010, 8929, 6841, 4753, 2665, 577, 8496, 6408, 4320, 2232, 144, 8063, 5975, 3887, 1799, 9718, 7630, 5542, 3454, 1366, 9285, 7197, 5109, 3021, 933, 8852, 6764, 4676, 2588, 500, 8419, 6331, 4243, 2155, 67, 7986, 5898, 3810, 1722, 9641, 7553, 5465, 3377, 1289, 9208, 7120, 5032, 2944, 856, 8775, 6687, 4599, 2511, 423, 8342, 6254, 4166, 2078, 9997, 7909, 5821, 3733, 1645, 9564, 7476];
export function lookup0(index: number): number {
  return TABLE[(index + 0) % TABLE.length];
}
export function lookup1(index: number): number {
  return TABLE[(index + 1) % TABLE.length];
}
export function lookup2(index: number): number {
  return TABLE[(index + 2) % TABLE.length];
}
export function lookup3(index: number): number {
  return TABLE[(index + 3) % TABLE.length];
}
export function lookup4(index: number): number {
  return TABLE[(index + 4) % TABLE.length];
}
export function lookup5(index: number): number {
  return TABLE[(index + 5) % TABLE.length];
}
export function lookup6(index: number): number {
  return TABLE[(index + 6) % TABLE.length];
}
export function lookup7(index: number): number {
  return TABLE[(index + 7) % TABLE.length];
}
export function lookup8(index: number): number {
  return TABLE[(index + 8) % TABLE.length];
}
export function lookup9(index: number): number {
  return TABLE[(index + 9) % TABLE.length];
}
export function lookup10(index: number): number {
  return TABLE[(index + 10) % TABLE.length];
}
export function lookup11(index: number): number {
  return TABLE[(index + 11) % TABLE.length];
}
export function lookup12(index: number): number {
  return TABLE[(index + 12) % TABLE.length];
}
export function lookup13(index: number): number {
  return TABLE[(index + 13) % TABLE.length];
}
export function lookup14(index: number): number {
  return TABLE[(index + 14) % TABLE.length];
}
export function lookup15(index: number): number {
  return TABLE[(index + 15) % TABLE.length];
}
export function lookup16(index: number): number {
  return TABLE[(index + 16) % TABLE.length];
}
export function lookup17(index: number): number {
  return TABLE[(index + 17) % TABLE.length];
}
export function lookup18(index: number): number {
  return TABLE[(index + 18) % TABLE.length];
}
export function lookup19(index: number): number {
  return TABLE[(index + 19) % TABLE.length];
}
export function lookup20(index: number): number {
  return TABLE[(index + 20) % TABLE.length];
}
export function lookup21(index: number): number {
  return TABLE[(index + 21) % TABLE.length];
}
export function lookup22(index: number): number {
  return TABLE[(index + 22) % TABLE.length];
}
export function lookup23(index: number): number {
  return TABLE[(index + 23) % TABLE.length];
}
export function lookup24(index: number): number {
  return TABLE[(index + 24) % TABLE.length];
}
export function lookup25(index: number): number {
  return TABLE[(index + 25) % TABLE.length];
}
export function lookup26(index: number): number {
  return TABLE[(index + 26) % TABLE.length];
}
export function lookup27(index: number): number {
  return TABLE[(index + 27) % TABLE.length];
}
export function lookup28(index: number): number {
  return TABLE[(index + 28) % TABLE.length];
}
export function lookup29(index: number): number {
  return TABLE[(index + 29) % TABLE.length];
}
export function lookup30(index: number): number {
  return TABLE[(index + 30) % TABLE.length];
}
export function lookup31(index: number): number {
  return TABLE[(index + 31) % TABLE.length];
}
export function lookup32(index: number): number {
  return TABLE[(index + 32) % TABLE.length];
}
export function lookup33(index: number): number {
  return TABLE[(index + 33) % TABLE.length];
}
export function lookup34(index: number): number {
  return TABLE[(index + 34) % TABLE.length];
}
export function lookup35(index: number): number {
  return TABLE[(index + 35) % TABLE.length];
}
export function lookup36(index: number): number {
  return TABLE[(index + 36) % TABLE.length];
}
export function lookup37(index: number): number {
  return TABLE[(index + 37) % TABLE.length];
}
export function lookup38(index: number): number {
  return TABLE[(index + 38) % TABLE.length];
}
export function lookup39(index: number): number {
  return TABLE[(index + 39) % TABLE.length];
}
