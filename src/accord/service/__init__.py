"""accord.service"""
