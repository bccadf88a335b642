"""accord.synth"""
