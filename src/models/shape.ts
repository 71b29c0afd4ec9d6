/** One image's shape, NHWC without the batch axis. */
export interface InputShape {
  height: number;
  width: number;
  channels: number;
}
