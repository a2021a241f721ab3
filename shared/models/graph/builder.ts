/**
 * Writes a layer graph: by default each layer takes the previous one's output (`from` names other
 * inputs, for residual branches and merges); parameters are named "<layer>/<role>" (conv1/kernel,
 * conv1/bias) in layer order. The built-in models use it.
 */
import type { InitScheme } from '../init';
import type { ImageShape } from '../types';
import type { ActivationName } from './activations';
import { opSpec, type OpName, type Shape } from './ops';
import { INPUT, MODEL_DEFINITION_FORMAT, ModelDefinitionError, type LayerNode, type ModelDefinition } from './validate';

export class GraphBuilder {
  private readonly layers: LayerNode[] = [];
  private readonly params: { name: string; shape: number[] }[] = [];
  private last = INPUT;
  private shape: Shape;
  private readonly shapes = new Map<string, Shape>();

  constructor(
    private readonly name: string,
    private readonly inputShape: ImageShape,
    private readonly numClasses: number,
    private readonly init?: InitScheme,
  ) {
    this.shape = [...inputShape];
    this.shapes.set(INPUT, this.shape);
  }

  /** The name of the last layer added (what the next layer takes by default). */
  get current(): string {
    return this.last;
  }

  add(name: string, op: OpName, config: Record<string, unknown>, from: string | readonly string[] = this.last): this {
    const spec = opSpec(op);
    const parsed = spec.config.parse(config);
    const inputs = typeof from === 'string' ? [from] : [...from];
    const inShapes = inputs.map((i) => {
      const shape = this.shapes.get(i);
      if (!shape) throw new ModelDefinitionError(`${this.name}: layer "${name}" (${op}): input "${i}" is not an earlier layer`);
      return shape;
    });
    let out: Shape;
    try {
      out = spec.outputShape(parsed, inShapes);
    } catch (err) {
      throw new ModelDefinitionError(`${this.name}: layer "${name}" (${op}): ${err instanceof Error ? err.message : String(err)}`);
    }
    const roles = spec.params(parsed, inShapes);
    for (const r of roles) this.params.push({ name: `${name}/${r.role}`, shape: r.shape });
    this.layers.push({ name, op, inputs, config, params: roles.map((r) => `${name}/${r.role}`) });
    this.last = name;
    this.shape = out;
    this.shapes.set(name, out);
    return this;
  }

  conv2d(
    name: string,
    c: {
      filters: number;
      kernelSize: number;
      stride: number;
      padding: number | 'same' | 'valid';
      activation?: ActivationName;
      useBias?: boolean;
    },
    from?: string,
  ): this {
    return this.add(
      name,
      'conv2d',
      {
        filters: c.filters,
        kernelSize: [c.kernelSize, c.kernelSize],
        strides: [c.stride, c.stride],
        padding: c.padding,
        activation: c.activation ?? 'linear',
        ...(c.useBias === false ? { useBias: false } : {}),
      },
      from,
    );
  }

  dense(name: string, c: { units: number; activation?: ActivationName }): this {
    return this.add(name, 'dense', { units: c.units, activation: c.activation ?? 'linear' });
  }

  pool(name: string, op: 'avgPool2d' | 'maxPool2d', size: number): this {
    return this.add(name, op, { poolSize: [size, size], strides: [size, size], padding: 'valid' });
  }

  flatten(name: string): this {
    return this.add(name, 'flatten', {});
  }

  build(): ModelDefinition {
    return {
      format: MODEL_DEFINITION_FORMAT,
      name: this.name,
      inputShape: [...this.inputShape],
      numClasses: this.numClasses,
      layers: this.layers,
      params: this.params,
      ...(this.init ? { init: this.init } : {}),
    };
  }
}
