/** `data.*` fields more than one dataset reads; one schema object each, so the registry can merge them. */
import { z } from 'zod';

const positiveInt = z.number().int().positive();

/** synthetic: the class count it makes; idx: the class count its labels range over. */
export const classesField = positiveInt.default(10);
/** cifar10 / cifar100: binary files, concatenated in order. */
export const filesField = z.array(z.string()).optional();
/** image-folder: the folder of class folders; csv: the table. */
export const pathField = z.string().optional();
/** csv: the label column's name; cifar100: "fine" or "coarse". Checked by each dataset's problems(). */
export const labelField = z.string().optional();
/** synthetic: the image shape it makes; none: the shape of the clients' images (the model's input). */
export const shapeField = z.tuple([positiveInt, positiveInt, positiveInt]).default([28, 28, 1]);
